import pytest
from claimsift.eval.baselines import (
    LEXICON_CONFIDENCE,
    LexiconBaseline,
    MajorityBaseline,
    TfidfLRBaseline,
    make_baseline,
)
from claimsift.eval.predictors import Predictor, check_prediction, load_predictor, predict
from claimsift.model.labels import LABELS

TRAIN = [
    {"doc": "t", "i": i, "text": text, "label": label}
    for i, (text, label) in enumerate([
        ("The council approved the budget on Tuesday.", "reported_fact"),
        ("Shares fell 3 percent in early trading.", "reported_fact"),
        ("The deal could collapse next week.", "speculation"),
        ("Analysts say the market may recover.", "unverifiable_expert_claim"),
        ("Share your thoughts below!", "no_claim"),
    ])
]


def test_majority_predicts_most_frequent_label_with_priors_as_scores():
    m = MajorityBaseline().fit(TRAIN)
    [pred] = m.predict_records([{"text": "Anything at all."}])
    assert pred["label"] == "reported_fact"
    assert pred["scores"] == pytest.approx([2 / 5, 0, 1 / 5, 1 / 5, 1 / 5])
    assert pred["speaker"] is None and pred["spans"] == {"speaker": None, "role": None, "cue": None}


def test_majority_tie_goes_to_the_earlier_label():
    m = MajorityBaseline().fit([{"text": "a", "label": "no_claim"}, {"text": "b", "label": "speculation"}])
    assert m.predict_records([{"text": "x"}])[0]["label"] == "speculation"


def test_unfitted_baselines_refuse_to_predict():
    with pytest.raises(RuntimeError, match="fit"):
        MajorityBaseline().predict_records([{"text": "x"}])
    with pytest.raises(RuntimeError, match="fit"):
        TfidfLRBaseline().predict_records([{"text": "x"}])


def test_fit_needs_labelled_records():
    with pytest.raises(ValueError, match="no labelled training records"):
        MajorityBaseline().fit([{"text": "x", "label": None}])


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Council votes to close library", "no_claim"),  # heading: no final punctuation
        ("Share your thoughts in the comments below!", "no_claim"),
        ("What are your predictions?", "no_claim"),
        ("By Jane Smith.", "no_claim"),
        ("Experts say the reform will push rents higher.", "unverifiable_expert_claim"),
        ("The company is reportedly planning layoffs.", "unverifiable_expert_claim"),
        ("Studies show that sleep matters.", "unverifiable_expert_claim"),
        ("The move is believed to be a first.", "unverifiable_expert_claim"),
        ("A survey found most voters undecided.", "unverifiable_expert_claim"),
        ("The plan is sound, said Priya Lindqvist, an economist at Harborview.", "unverifiable_expert_claim"),
        ("The transport ministry said, \"We will reopen by March.\"", "attributed_quote"),
        ("Mayor Ruth Ong said the bridge would reopen.", "attributed_quote"),
        ("\"We fixed it.\"", "attributed_quote"),
        ("The vote could mark a turning point.", "speculation"),
        ("Could the fate of Ukraine be decided in Miami?", "speculation"),
        ("The city council approved a 4.2 million euro budget on Tuesday.", "reported_fact"),
    ],
)
def test_lexicon_rules(text, label):
    assert LexiconBaseline.classify(text)[0] == label


def test_lexicon_cue_span_points_into_the_original_text():
    text = "  Mayor Ruth Ong said the bridge would reopen."
    [pred] = LexiconBaseline().predict_records([{"text": text}])
    start, end = pred["spans"]["cue"]
    assert pred["cue"] == "said" == text[start:end]
    assert pred["scores"][LABELS.index("attributed_quote")] == LEXICON_CONFIDENCE
    assert sum(pred["scores"]) == pytest.approx(1)


def test_tfidf_lr_fits_and_recovers_its_training_sentences():
    model = TfidfLRBaseline().fit(TRAIN)
    preds = model.predict_records(TRAIN)
    assert [p["label"] for p in preds] == [r["label"] for r in TRAIN]
    for p in preds:
        assert sum(p["scores"]) == pytest.approx(1)
        # attributed_quote was not in training: it has no column and gets probability 0
        assert p["scores"][LABELS.index("attributed_quote")] == 0
        assert p["label"] == LABELS[max(range(5), key=p["scores"].__getitem__)]
    assert model.predict_records([]) == []


def test_load_predictor_gives_fitted_baselines():
    for name in ("majority", "lexicon", "tfidf-lr"):
        predictor = load_predictor(name, TRAIN)
        assert isinstance(predictor, Predictor)
        assert len(predict(predictor, TRAIN)) == len(TRAIN)
    with pytest.raises(ValueError, match="unknown baseline"):
        make_baseline("random", TRAIN)


class _Recorder:
    """Returns a fixed prediction and remembers which documents each call held."""

    def __init__(self, n_out=None, scores=(1.0, 0.0, 0.0, 0.0, 0.0)):
        self.calls, self.n_out, self.scores = [], n_out, list(scores)

    def predict_records(self, records):
        self.calls.append([r["doc"] for r in records])
        n = len(records) if self.n_out is None else self.n_out
        spans = {"speaker": None, "role": None, "cue": None}
        return [{"label": "reported_fact", "scores": self.scores, "spans": spans} for _ in range(n)]


def test_predict_sends_whole_documents_per_call():
    records = [{"doc": d, "i": i, "text": "x."} for d in "abc" for i in range(3)]
    rec = _Recorder()
    assert len(predict(rec, records, docs_per_call=2)) == 9
    assert rec.calls == [list("aaabbb"), list("ccc")]


def test_predict_rejects_predictors_that_break_the_contract():
    records = [{"doc": "a", "i": 0, "text": "x."}, {"doc": "a", "i": 1, "text": "y."}]
    with pytest.raises(ValueError, match="returned 1 predictions for 2 records"):
        predict(_Recorder(n_out=1), records)
    with pytest.raises(ValueError, match="summing to 1"):
        predict(_Recorder(scores=(0.5, 0.0, 0.0, 0.0, 0.0)), records)
    with pytest.raises(ValueError, match="not one of"):
        check_prediction({"label": "fact", "scores": [1, 0, 0, 0, 0], "spans": {}}, "here")
