"""The host side of scoring: groups, the window layout workers decode from, and the collector."""

import gc

import pytest
import torch
from claimsift.model import host
from claimsift.model.labels import LABELS

from claimsift import ClaimDetector

DOCS = [[f"Sentence {k} of document {d} says {'many words ' * ((k + d) % 5)}here." for k in range(n)]
        for d, n in enumerate((12, 1, 0, 9, 30, 4, 17))]
DOCS[3][2] = 'Mayor Ruth Ong said, "The bridge will reopen in May.'
DOCS[3][3] = 'It will carry trams," she added.'


@pytest.fixture
def collector():
    """Whatever a test does to the collector, the next test finds it on."""
    yield
    gc.enable()


@pytest.fixture
def quoting(tiny_base):
    """A tiny window-layout detector that labels many sentences as quotes, so spans get decoded."""
    det = ClaimDetector.new(str(tiny_base), device="cpu", adapter="full", context="window", max_length=64)
    with torch.no_grad():
        det.net.label_head.bias[LABELS.index("attributed_quote")] = 1.5
    return det


@pytest.mark.parametrize("taper", [False, True])
def test_groups_hold_every_document_whole_and_in_order(taper):
    docs = [[f"{d}.{k}" for k in range(d % 7)] for d in range(300)]
    parts = host.groups(docs, 64, taper=taper)
    assert [d for g in parts for d in g] == docs
    sizes = [sum(map(len, g)) for g in parts]
    if taper:  # small at both ends, full between
        assert sizes[0] <= 64 // 16 + 6 and sizes[-1] <= 64 // 16 + 6
        assert max(sizes) > 4 * max(sizes[0], sizes[-1]) and max(sizes) <= 64 + 6
    else:
        assert all(s >= 64 for s in sizes[:-1])


def test_a_worker_decodes_from_the_packed_layout_what_the_full_encoding_gives(quoting):
    spec = quoting.host
    enc = host.encode_group(spec, DOCS)
    packed = host.pack(spec, enc)
    with torch.inference_mode():
        batches, normalized = quoting._read_back(quoting._launch(packed))
    full = host.decode(spec, enc, batches, normalized)
    assert sum(row[3] is not None for row in full) > 10  # spans decoded for many sentences
    assert host.decode(spec, host.window_encoding(DOCS, *packed.layout), batches, normalized) == full


def test_the_collector_is_off_inside_the_block_and_on_after(collector):
    assert gc.isenabled()
    with host.collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), host.collector_paused():
        raise RuntimeError("a bad batch")
    assert gc.isenabled()


def test_a_callers_disabled_collector_is_left_alone(collector):
    gc.disable()
    with host.collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_scoring_makes_no_reference_cycles_for_a_paused_collector_to_miss(quoting, collector):
    quoting.classify_many(DOCS)  # first-call caches
    gc.collect()
    gc.disable()
    results = quoting.classify_many(DOCS)
    assert gc.collect() == 0  # nothing unreachable: reference counting freed all scoring dropped
    assert any(r.attribution is not None for res in results for r in res)


def test_scoring_turns_the_collector_back_on_even_when_stopped_early(tiny_detector, collector):
    docs = [[f"Sentence {k} of document {d}." for k in range(5)] for d in range(6)]
    groups = tiny_detector._grouped(docs, chunk=5)
    first = next(groups)
    assert not gc.isenabled()  # off while the caller holds a scoring in progress
    groups.close()
    assert gc.isenabled()
    assert [r.text for r in first[0]] == docs[0]
    assert len(tiny_detector.classify_many(docs)) == 6
    assert gc.isenabled()
