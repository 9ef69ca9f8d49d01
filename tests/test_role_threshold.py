"""Choosing a model's min_role_score: the sweep scores every candidate and leaves the model as it was."""

from claimsift.data.corpus import load_records
from claimsift.eval.role_threshold import best_threshold, sweep, table


def test_best_threshold_prefers_the_lower_value_on_a_tie():
    assert best_threshold({0.0: 0.8, 0.5: 0.8, 0.6: 0.7}) == 0.0
    assert best_threshold({0.0: 0.7, 0.6: 0.9}) == 0.6


def test_sweep_scores_each_candidate_and_restores_the_config(tiny_detector):
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
