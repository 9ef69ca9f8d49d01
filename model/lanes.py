"""Lanes: threads that each run one batch through a PyTorch network on a CPU, with their own share of the cores.

A forward pass leaves cores idle (the Python between operations, and the small operations between
the matrix products, run on one thread), so a CPU detector runs two batches at once. Each lane
gets its share of the intra-op threads rather than all of them: on two cores, two lanes of one
thread each labelled 428-473 sentences a second against 385-436 for two lanes of two (ad hoc,
4,000 sentences, three alternating rounds), and on larger CPUs a lane of every thread each would
oversubscribe the cores by the number of lanes.

>>> import torch
>>> pool = start_lanes(2)
>>> sorted(pool.map(lambda _: torch.get_num_threads(), range(2))) == [max(1, torch.get_num_threads() // 2)] * 2
True
>>> pool.shutdown()
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor


def start_lanes(lanes: int, threads: int | None = None) -> ThreadPoolExecutor:
    """A pool of ``lanes`` started threads, each running its ops on ``threads`` intra-op threads.

    ``threads=None`` splits the caller's ``torch.get_num_threads()`` between the lanes (at least
    one each). The caller's own thread count, and the one new threads start with, are left as
    they were.
    """
    import torch

    if lanes < 1:
        raise ValueError(f"lanes must be 1 or more, got {lanes}")
    total = torch.get_num_threads()
    each = max(1, total // lanes) if threads is None else threads
    if each < 1:
        raise ValueError(f"threads must be 1 or more, got {threads}")

    def setup() -> None:
        # The thread count is per thread (OpenMP's ICV), but torch.set_num_threads also stores it
        # as the count every new thread starts with, and a thread's first op (the lazy init
        # get_num_threads does now) resets its own from that store: read first, then set.
        torch.get_num_threads()
        torch.set_num_threads(each)

    pool = ThreadPoolExecutor(lanes, thread_name_prefix="claimsift-lane", initializer=setup)
    # ThreadPoolExecutor starts threads as work arrives; tasks that wait for each other force all
    # of them to start (and run setup) now, so that the caller can restore the stored count after.
    barrier = threading.Barrier(lanes, timeout=60)
    for started in [pool.submit(barrier.wait) for _ in range(lanes)]:
        started.result()
    torch.set_num_threads(total)
    return pool
