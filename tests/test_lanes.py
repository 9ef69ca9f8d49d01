"""Lanes share the cores: each has its part of the intra-op threads, and nobody else's count moves."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from claimsift.model.lanes import start_lanes


@pytest.fixture
def four_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(4)
    yield
    torch.set_num_threads(before)


def _counts(pool, n):
    # tasks that wait for each other land on n different threads
    import threading

    barrier = threading.Barrier(n, timeout=30)

    def count(_):
        barrier.wait()
        return threading.current_thread().name, torch.get_num_threads()

    return dict(pool.map(count, range(n)))


def test_lanes_split_the_callers_threads_and_leave_its_count_and_new_threads_alone(four_threads):
    pool = start_lanes(2)
    try:
        counts = _counts(pool, 2)
        assert len(counts) == 2 and all(name.startswith("claimsift-lane") for name in counts)
        assert set(counts.values()) == {2}
        assert torch.get_num_threads() == 4
        with ThreadPoolExecutor(1) as other:  # a thread started later begins with the caller's count
            assert other.submit(torch.get_num_threads).result() == 4
    finally:
        pool.shutdown()


def test_lanes_take_an_explicit_count_and_never_fewer_than_one_thread(four_threads):
    pool = start_lanes(3, threads=4)
    try:
        assert set(_counts(pool, 3).values()) == {4}
    finally:
        pool.shutdown()
    pool = start_lanes(8)  # more lanes than threads: one each
    try:
        assert set(_counts(pool, 8).values()) == {1}
    finally:
        pool.shutdown()
    with pytest.raises(ValueError, match="lanes"):
        start_lanes(0)
    with pytest.raises(ValueError, match="threads"):
        start_lanes(2, threads=0)


def test_a_detectors_lanes_run_on_their_share_unless_told_otherwise(tiny_detector, four_threads, monkeypatch):
    seen = []
    run = tiny_detector._run
    monkeypatch.setattr(tiny_detector, "_run", lambda inputs: seen.append(torch.get_num_threads()) or run(inputs))
    tiny_detector.batch_size = 3  # several batches, so both lanes take some
    docs = [[f"Row {k} is {'long ' * k}enough.", 'Mayor Ruth Ong said, "The plan is sound."'] for k in range(12)]

    def labelled():
        return [r.to_dict() for res in tiny_detector.classify_many(docs) for r in res]

    try:
        shared = labelled()
        assert tiny_detector.lanes == 2 and seen and set(seen) == {2}
        tiny_detector.close()
        tiny_detector.lane_threads, seen[:] = 4, []
        assert labelled() == shared
        assert set(seen) == {4}
    finally:
        tiny_detector.close()
