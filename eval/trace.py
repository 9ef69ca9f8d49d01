"""Where ``classify_many`` spends its time in the process that runs the network.

``python -m claimsift.eval.trace --model default --sentences 30000 --device cuda --workers 0,6,12``
scores the same documents twice per worker count in one fresh process each (a first, cold run
and a second, warm one) and reports, per run: sentences per second, this process's CPU time per
sentence, how long it waited for prepared groups and for finished ones, how long it spent
queueing the network's batches and waiting for their outputs (with lanes or on a GPU the network
runs between the two, so most of its time shows in the wait), and how many full garbage
collections ran. The benchmark
(``claimsift.eval.bench``) says how fast; this says what bounds it. Lines of JSON go to stdout and,
with ``--output``, to a file.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
from pathlib import Path


class _Clock:
    """Wall time per stage of :meth:`ClaimDetector._grouped`, from wrappers around its steps."""

    def __init__(self, det):
        self.seconds: dict[str, float] = {}
        self._det = det
        launch, in_workers, finish = det._launch, det._in_workers, det._finish_in_workers
        det._launch = self._timed("queue batches", launch)
        det._read_back = self._timed("wait for the network", det._read_back)
        det._finish_in_workers = lambda *a: _Waited(finish(*a), self)

        def prepared(parts):
            items = in_workers(parts)
            while True:
                start = time.perf_counter()
                item = next(items, None)
                self.add("wait for prepared groups", time.perf_counter() - start)
                if item is None:
                    return
                yield item

        det._in_workers = prepared

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def _timed(self, stage, fn):
        def timed(*args):
            start = time.perf_counter()
            out = fn(*args)
            self.add(stage, time.perf_counter() - start)
            return out
        return timed

    def close(self) -> None:
        for name in ("_launch", "_read_back", "_in_workers", "_finish_in_workers"):
            delattr(self._det, name)  # the class's methods again


class _Waited:
    """A worker's pending result whose ``get`` is timed."""

    def __init__(self, pending, clock: _Clock):
        self.pending, self.clock = pending, clock

    def ready(self) -> bool:
        return self.pending.ready()

    def get(self):
        start = time.perf_counter()
        out = self.pending.get()
        self.clock.add("wait for finished groups", time.perf_counter() - start)
        return out


def traced_run(det, docs) -> dict:
    """One timed ``classify_many(docs)`` with its stages, CPU time and full collections."""
    from claimsift.eval.bench import _sync

    full = []

    def count(phase, info):
        if phase == "stop" and info["generation"] == 2:
            full.append(1)

    clock = _Clock(det)
    gc.callbacks.append(count)
    try:
        _sync(det.device)
        before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        n = sum(len(res) for res in det.classify_many(docs))
        _sync(det.device)
        seconds, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    finally:
        gc.callbacks.remove(count)
        clock.close()
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return {"sentences": n, "seconds": round(seconds, 3), "sentences_per_s": round(n / seconds),
            "main_cpu_us_per_sentence": round(cpu / n * 1e6, 1), "full_collections": len(full),
            "stages_s": {k: round(v, 3) for k, v in clock.seconds.items()}}


def _trace(model: str, n: int, device: str | None, workers: int, queue) -> None:
    from claimsift.eval.bench import _sentences
    from claimsift.model.detector import ClaimDetector

    with ClaimDetector.from_pretrained(model, device=device, workers=workers, runtime="torch") as det:
        docs, _ = _sentences(n)
        det.classify_many(docs[:2])  # what the benchmark's rows do before timing
        queue.put([{"workers": det.workers, "run": run, **traced_run(det, docs)} for run in ("first", "second")])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="default")
    p.add_argument("--sentences", type=int, default=2000)
    p.add_argument("--device", default=None)
    p.add_argument("--workers", default="0", help="comma list of host-side worker counts, one process each")
    p.add_argument("--output", type=Path, default=None, help="also write the JSON lines here")
    args = p.parse_args(argv)
    from claimsift.eval.bench import _in_process

    lines = []
    for w in (int(x) for x in args.workers.split(",")):
        for row in _in_process(_trace, args.model, args.sentences, args.device, w):
            lines.append(json.dumps(row))
            print(lines[-1], flush=True)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
