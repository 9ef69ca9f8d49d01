"""Host-side worker processes: tokenizing and decoding beside the process running the network."""

import pytest
import torch
from claimsift.model.detector import MAX_AUTO_WORKERS, _workers
from claimsift.model.labels import LABELS

from claimsift import ClaimDetector

DOCS = [[f"Sentence {k} of document {d} says {'many words ' * ((k + d) % 7)}here." for k in range(n)]
        for d, n in enumerate((23, 1, 0, 9, 40))]
DOCS[3][2] = 'Mayor Ruth Ong said, "The bridge will reopen in May.'
DOCS[3][3] = 'It will carry trams," she added.'


def _results(det, docs, chunk):
    return [r for group in det._grouped(docs, chunk=chunk) for res in group for r in res]


@pytest.mark.parametrize("context", ["window", "both"])
def test_workers_give_the_results_of_the_main_process(tiny_base, context):
    det = ClaimDetector.new(str(tiny_base), device="cpu", adapter="full", context=context, max_length=64)
    with torch.no_grad():  # some sentences are attributed, so the workers decode spans too
        det.net.label_head.bias[LABELS.index("attributed_quote")] = 1.5
    alone = _results(det, DOCS, chunk=7)
    det.workers = 2
    with det:
        helped = _results(det, DOCS, chunk=7)  # groups of 7: both workers take several
        assert det._executor is not None
        again = det.classify_many(DOCS)  # the pool is kept between calls
    assert det._executor is None  # closed on leaving the block
    assert any(r.attribution is not None for r in alone)
    assert len(helped) == len(alone) == len([r for res in again for r in res])
    for a, b in zip(alone, helped, strict=True):
        assert (a.label, a.text, a.index, a.attribution) == (b.label, b.text, b.index, b.attribution)
        assert max(abs(a.scores[k] - b.scores[k]) for k in LABELS) < 1e-6


def test_worker_count_is_picked_for_the_device_and_checked(tiny_detector):
    tok = tiny_detector.tokenizer
    assert _workers(None, torch.device("cpu"), tok) == 0  # the network needs the CPU's cores
    picked = _workers(None, torch.device("cuda"), tok)
    assert 0 <= picked <= MAX_AUTO_WORKERS
    assert _workers(3, torch.device("cpu"), tok) == 3
    with pytest.raises(ValueError, match="workers"):
        _workers(-1, torch.device("cpu"), tok)
