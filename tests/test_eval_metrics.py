import math

import numpy as np
import pytest
from claimsift.eval import metrics
from claimsift.model.labels import LABELS
from sklearn.metrics import f1_score

F, Q, S, E, N = LABELS  # reported_fact, attributed_quote, speculation, unverifiable_expert_claim, no_claim

GOLD = [F, F, Q, S, E, N]
PRED = [F, Q, Q, S, F, N]
# Worked by hand:
#   FACT:   tp 1, fp 1 (E->F), fn 1 (F->Q)  -> P 1/2, R 1/2, F1 1/2
#   QUOTE:  tp 1, fp 1 (F->Q), fn 0         -> P 1/2, R 1,   F1 2/3
#   SPEC:   tp 1                             -> F1 1
#   EXPERT: tp 0, fn 1                       -> F1 0
#   NONE:   tp 1                             -> F1 1
#   macro-F1 = (1/2 + 2/3 + 1 + 0 + 1) / 5 = 19/30; accuracy = 4/6


def test_accuracy_and_macro_f1_match_hand_computation():
    assert metrics.accuracy(GOLD, PRED) == pytest.approx(4 / 6)
    assert metrics.macro_f1(GOLD, PRED) == pytest.approx(19 / 30)


def test_per_label_matches_hand_computation_in_labels_order():
    table = metrics.per_label(GOLD, PRED)
    assert list(table) == list(LABELS)
    assert table[F] == pytest.approx({"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2})
    assert table[Q] == pytest.approx({"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 1})
    assert table[E]["f1"] == 0 and table[E]["support"] == 1


def test_absent_label_keeps_its_row_and_counts_zero_in_macro_f1():
    table = metrics.per_label([F, F], [F, F])
    assert table[S] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    # Only FACT is perfect; the four absent labels count as 0.
    assert metrics.macro_f1([F, F], [F, F]) == pytest.approx(1 / 5)
    assert metrics.macro_f1([F, F], [F, F], labels=[F]) == 1.0


def test_confusion_rows_are_gold_columns_predicted():
    cm = metrics.confusion(GOLD, PRED)
    assert cm.shape == (5, 5)
    assert cm[LABELS.index(F), LABELS.index(Q)] == 1
    assert cm[LABELS.index(E), LABELS.index(F)] == 1
    assert cm.sum() == len(GOLD)


def test_costly_error_rates():
    gold = [S, S, S, S, E, E, Q]
    pred = [F, F, S, N, F, E, Q]
    rates = metrics.costly_error_rates(gold, pred)
    # speculation: 2 of 4 shown as fact; expert: 1 of 2; quote: 0 of 1
    assert rates == {"speculation_as_fact": 0.5, "expert_claim_as_fact": 0.5, "quote_as_fact": 0.0}


def test_costly_error_rate_is_none_when_gold_label_absent():
    assert metrics.costly_error_rates([F], [F])["speculation_as_fact"] is None


def test_f1_from_confusion_equals_scikit_learn():
    rng = np.random.default_rng(3)
    gold = list(rng.choice(LABELS[:4], 200))  # NONE absent on both sides: F1 0 in both
    pred = list(rng.choice(LABELS[:4], 200))
    ours = metrics.f1_from_confusion(metrics.confusion(gold, pred))
    theirs = f1_score(gold, pred, labels=list(LABELS), average=None, zero_division=0)
    np.testing.assert_allclose(ours, theirs)


def _two_docs():
    # doc a: 10 sentences all right; doc b: 10 all wrong; doc c: 4 right, 6 wrong.
    gold = [F] * 30
    pred = [F] * 10 + [S] * 10 + [F] * 4 + [S] * 6
    groups = ["a"] * 10 + ["b"] * 10 + ["c"] * 10
    return gold, pred, groups


def test_bootstrap_ci_contains_point_estimate_and_is_deterministic():
    gold, pred, groups = _two_docs()
    first = metrics.bootstrap_ci(gold, pred, groups, "accuracy", n_resamples=500, seed=7)
    again = metrics.bootstrap_ci(gold, pred, groups, "accuracy", n_resamples=500, seed=7)
    other = metrics.bootstrap_ci(gold, pred, groups, "accuracy", n_resamples=500, seed=8)
    assert first == again
    assert first[0] <= metrics.accuracy(gold, pred) <= first[1]
    assert first[0] < first[1]
    assert isinstance(other[0], float)


def test_bootstrap_resamples_whole_documents():
    gold, pred, groups = _two_docs()
    cms = metrics.bootstrap_confusions(gold, pred, groups, n_resamples=300, seed=0)
    values = metrics.statistic_values(cms, "accuracy")
    # Three documents of 10 sentences with 10, 0 and 4 right: a resample's accuracy is the sum of
    # three of those over 30. Resampling sentences would also give sums such as 1 or 29.
    possible = {round((x + y + z) / 30, 9) for x in (10, 0, 4) for y in (10, 0, 4) for z in (10, 0, 4)}
    assert {round(v, 9) for v in values} <= possible
    assert len(set(values)) > 3
    assert (cms.sum(axis=(1, 2)) == 30).all()


def test_bootstrap_macro_f1_and_per_label_statistics():
    gold, pred, groups = _two_docs()
    low, high = metrics.bootstrap_ci(gold, pred, groups, f"f1:{F}", n_resamples=200)
    point = metrics.per_label(gold, pred)[F]["f1"]
    assert low <= point <= high
    custom = metrics.bootstrap_ci(gold, pred, groups, lambda cm: float(cm.sum()), n_resamples=20)
    assert custom == (30.0, 30.0)
    with pytest.raises(ValueError, match="unknown statistic"):
        metrics.bootstrap_ci(gold, pred, groups, "f2", n_resamples=5)


def test_bootstrap_rejects_misaligned_inputs():
    with pytest.raises(ValueError, match="one entry per sentence"):
        metrics.bootstrap_confusions([F, F], [F], ["a", "a"])


PROBS = np.array([
    [0.9, 0.1, 0.0, 0.0, 0.0],    # gold F, predicted F (right), confidence 0.9
    [0.2, 0.8, 0.0, 0.0, 0.0],    # gold F, predicted Q (wrong), confidence 0.8
    [0.5, 0.3, 0.2, 0.0, 0.0],    # gold F, predicted F (right), confidence 0.5
    [0.4, 0.35, 0.25, 0.0, 0.0],  # gold S, predicted F (wrong), confidence 0.4
])
PROB_GOLD = [F, F, F, S]
# With 3 bins: (2/3, 1] holds 0.9 and 0.8: accuracy 0.5, confidence 0.85, gap 0.35;
# (1/3, 2/3] holds 0.5 and 0.4: accuracy 0.5, confidence 0.45, gap 0.05.
# ECE = (2 * 0.35 + 2 * 0.05) / 4 = 0.2


def test_expected_calibration_error_matches_hand_computation():
    assert metrics.expected_calibration_error(PROB_GOLD, PROBS, n_bins=3) == pytest.approx(0.2)


def test_reliability_bins_by_hand():
    bins = metrics.reliability_bins(PROB_GOLD, PROBS, n_bins=3)
    assert [b["count"] for b in bins] == [0, 2, 2]
    assert bins[0]["accuracy"] is None
    assert bins[2]["confidence"] == pytest.approx(0.85)
    assert bins[1]["accuracy"] == 0.5


def test_reliability_bins_are_closed_on_the_right():
    # 0.5 lies on the edge between two bins: it belongs to (0, 0.5]; 1.0 to the last bin.
    probs = np.array([[0.5, 0.5, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0, 0.0]])
    bins = metrics.reliability_bins([F, F], probs, n_bins=2)
    assert [b["count"] for b in bins] == [1, 1]


def test_perfectly_calibrated_scores_have_zero_ece():
    probs = np.tile([1.0, 0.0, 0.0, 0.0, 0.0], (3, 1))
    assert metrics.expected_calibration_error([F, F, F], probs) == 0.0


def test_reliability_rejects_wrong_shape():
    with pytest.raises(ValueError, match="shape"):
        metrics.reliability_bins([F], np.ones((1, 3)) / 3)


def test_field_match_exact_and_token_overlap_by_hand():
    gold = ["Dr. Anya Petrova", "analysts", None, "the ministry"]
    pred = ["Anya Petrova", None, "experts", "The Ministry"]
    m = metrics.field_match(gold, pred)
    # exact: hits 1 ("the ministry", case folded); predicted 3, gold 3
    assert m["exact"] == pytest.approx({"precision": 1 / 3, "recall": 1 / 3, "f1": 1 / 3})
    # tokens: gold 3 + 1 + 2 = 6, predicted 2 + 1 + 2 = 5, overlap 2 + 0 + 0 + 2 = 4
    assert m["token"]["precision"] == pytest.approx(4 / 5)
    assert m["token"]["recall"] == pytest.approx(4 / 6)
    assert m["token"]["f1"] == pytest.approx(2 * 0.8 * (2 / 3) / (0.8 + 2 / 3))


def test_attribution_quality_counts_only_gold_quote_and_expert_sentences():
    gold = [
        {"label": Q, "speaker": "Ann Lee", "role": "the mayor", "cue": "said", "named": True},
        # speaker named in an earlier sentence: still compared as a string
        {"label": Q, "speaker": "Ann Lee", "role": None, "cue": "added", "named": True,
         "speaker_in_context": True},
        {"label": E, "speaker": "analysts", "role": None, "cue": "say", "named": False},
        {"label": F, "speaker": None, "role": None, "cue": None, "named": None},
    ]
    pred = [
        {"speaker": "Ann Lee", "role": "mayor", "cue": "said", "named": True},
        {"speaker": "Ann Lee", "role": None, "cue": None, "named": True},
        {"speaker": "analysts", "role": None, "cue": "say", "named": True},
        {"speaker": "Nobody", "role": "x", "cue": "y", "named": False},  # ignored: gold is a fact
    ]
    q = metrics.attribution_quality(gold, pred)
    assert q["n_sentences"] == 3
    assert q["speaker"]["exact"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert q["cue"]["exact"]["precision"] == 1.0 and q["cue"]["exact"]["recall"] == pytest.approx(2 / 3)
    assert q["role"]["exact"]["f1"] == 0.0 and q["role"]["token"]["precision"] == 1.0
    assert q["named_accuracy"] == pytest.approx(2 / 3)


def test_kappa_by_hand():
    a = [N, N, S, S]
    b = [N, S, S, S]
    # observed 3/4; chance 0.5 * 0.25 + 0.5 * 0.75 = 0.5; kappa = (0.75 - 0.5) / 0.5
    assert metrics.kappa(a, b) == pytest.approx(0.5)
    per = metrics.per_label_kappa(a, b)
    # NONE vs rest: a = TTFF, b = TFFF: the same numbers, kappa 0.5; SPEC is its mirror image.
    assert per[N] == pytest.approx(0.5) and per[S] == pytest.approx(0.5)
    assert math.isnan(per[F])  # nobody used FACT: undefined, not 0 or 1


def test_auroc_and_binary_prf():
    assert metrics.auroc([True, False, True, False], [0.9, 0.1, 0.2, 0.3]) == pytest.approx(0.75)
    assert metrics.auroc([True, True], [0.1, 0.2]) is None
    prf = metrics.binary_prf([True, True, False, False], [True, False, True, False])
    assert prf == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "n_positive": 2, "n_negative": 2}
