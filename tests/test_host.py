"""The host side's handling of Python's garbage collector while scoring."""

import gc

import pytest
from claimsift.model import host


@pytest.fixture
def collector():
    """Whatever a test does to the collector, the next test finds it on and unfrozen."""
    yield
    gc.unfreeze()
    gc.enable()


def test_objects_older_than_the_block_are_frozen_inside_it_and_released_after(collector):
    old = [[k] for k in range(1000)]  # tracked containers that exist before the block
    assert gc.get_freeze_count() == 0
    with host.older_objects_frozen():
        frozen = gc.get_freeze_count()
        assert frozen >= len(old)
        young = [[k] for k in range(10)]
        assert gc.get_freeze_count() == frozen  # what the block makes is collected as usual
    assert young
    assert gc.get_freeze_count() == 0


def test_the_block_releases_them_when_it_fails(collector):
    with pytest.raises(RuntimeError), host.older_objects_frozen():
        raise RuntimeError("a bad batch")
    assert gc.get_freeze_count() == 0


def test_a_callers_own_freeze_or_disabled_collector_is_left_alone(collector):
    keep = [[k] for k in range(100)]
    gc.freeze()
    frozen = gc.get_freeze_count()
    with host.older_objects_frozen():
        more = [[k] for k in range(100)]
        assert gc.get_freeze_count() == frozen  # nothing more frozen, and not undone after
    assert gc.get_freeze_count() == frozen
    gc.unfreeze()
    gc.disable()
    with host.older_objects_frozen():
        assert gc.get_freeze_count() == 0
    assert not gc.isenabled()
    assert keep and more


def test_scoring_releases_the_frozen_objects_even_when_stopped_early(tiny_detector, collector):
    docs = [[f"Sentence {k} of document {d}." for k in range(5)] for d in range(6)]
    groups = tiny_detector._grouped(docs, chunk=5)
    first = next(groups)
    assert gc.get_freeze_count() > 0  # frozen while the caller holds a scoring in progress
    groups.close()
    assert gc.get_freeze_count() == 0
    assert [r.text for r in first[0]] == docs[0]
    assert len(tiny_detector.classify_many(docs)) == 6
    assert gc.get_freeze_count() == 0
