"""Choosing a model's min_role_score: the sweep scores every candidate and leaves the model as it was."""

import torch
from claimsift.data.corpus import load_records
from claimsift.eval.role_threshold import best_threshold, choose, role_score, sweep, table
from claimsift.model.labels import LABELS


def test_best_threshold_prefers_the_lower_value_on_a_tie():
    assert best_threshold({0.0: 0.8, 0.5: 0.8, 0.6: 0.7}) == 0.0
    assert best_threshold({0.0: 0.7, 0.6: 0.9}) == 0.6


def test_sweep_scores_each_candidate_and_restores_the_config(tiny_detector):
    # random heads: make every sentence a quote, so roles are decoded whatever the draw of weights
    with torch.no_grad():
        tiny_detector.net.label_head.bias[LABELS.index("attributed_quote")] = 100.0
    dev = load_records("dev")
    docs = {r["doc"] for r in dev[:30]}
    records = [r for r in dev if r["doc"] in docs]
    before = tiny_detector.config
    results = sweep(tiny_detector, {"dev": records}, candidates=(0.0, 0.9))
    assert tiny_detector.config == before
    assert list(results) == [0.0, 0.9]
    for by in results.values():
        assert set(by["dev"]) >= {"exact", "token"}
    # a higher threshold can only leave roles out
    assert results[0.9]["dev"]["n_pred"] < results[0.0]["dev"]["n_pred"]
    assert "0.9 (chosen)" in table(results, 0.9)


def test_choose_picks_the_best_mean_of_exact_and_token_f1(monkeypatch):
    from claimsift.eval import role_threshold

    by = {0.0: {"exact": {"f1": 0.70}, "token": {"f1": 0.90}}, 0.6: {"exact": {"f1": 0.80}, "token": {"f1": 0.85}},
          0.7: {"exact": {"f1": None}, "token": {"f1": None}}}
    monkeypatch.setattr(role_threshold, "sweep", lambda det, splits, candidates: {t: {"dev": q} for t, q in by.items()})
    chosen, results = choose(None, [])  # the sweep is replaced: no detector is scored
    assert chosen == 0.6 and results == by  # 0.825 beats 0.800; no F1 at all counts as 0
    assert role_score(by[0.7]) == 0.0
