"""The stage trace of classify_many (claimsift.eval.trace)."""

import pytest
from claimsift.eval.trace import traced_run

from claimsift import ClaimDetector

DOCS = [[f"Sentence {k} of document {d}." for k in range(n)] for d, n in enumerate((12, 3, 30, 7))]


@pytest.mark.parametrize("workers", [0, 2])
def test_a_traced_run_reports_its_stages_and_leaves_the_detector_as_it_was(tiny_base, workers):
    det = ClaimDetector.new(str(tiny_base), device="cpu", adapter="full")
    det.workers = workers
    with det:
        expected = [[r.label for r in res] for res in det.classify_many(DOCS)]
        row = traced_run(det, DOCS)
        assert [[r.label for r in res] for res in det.classify_many(DOCS)] == expected
    assert row["sentences"] == sum(map(len, DOCS))
    assert row["sentences_per_s"] > 0 and row["main_cpu_us_per_sentence"] > 0
    waits = {"wait for prepared groups", "wait for finished groups"} if workers else set()
    stages = {"queue batches", "wait for the network"} | waits
    assert set(row["stages_s"]) == stages
    # The stages run inside the timed call; each figure is rounded to the millisecond, so the sum of
    # the rounded stages may pass the rounded total by half a millisecond per rounded figure.
    assert sum(row["stages_s"].values()) <= row["seconds"] + 0.0005 * (len(row["stages_s"]) + 1)
    assert not {"_launch", "_read_back", "_in_workers"} & set(vars(det))  # the wrappers are gone
