"""Speed benchmark: ``ClaimDetector.classify_many`` against a plain ``transformers.pipeline``.

Both paths run on the same sentences in one run, each in its own process so peak memory is its
own. ``python -m claimsift.eval.bench --model default --sentences 2000`` writes
``eval/results/speed.md``. The pipeline is a ``text-classification`` pipeline over the same encoder
architecture with a freshly initialised 5-way head and ``batch_size=32``: it measures speed only
(its head is untrained, so its macro-F1 is not meaningful and is not reported). A third row times
claimsift's network alone on the same inputs, tokenized, padded and moved to the device beforehand:
the ceiling end to end can approach. A fourth times the rest: ``classify_many`` with the network's
outputs replayed, the ceiling however fast the network gets. ``--device cuda`` runs them on a GPU (bf16). On a CPU
with native bf16 (AMX or AVX512-BF16) claimsift's default is bf16: the table then also times it
in fp32 and a bf16 pipeline, so the precision's share of the gain is visible, and with the other
choice of widths (``ClaimDetector.width_multiple``: rows with context are rounded up, sentences
alone are not), so is what that choice buys. On a CPU, where
claimsift runs batches through the network from two threads at once (``lanes``), each on its share
of the intra-op threads, a row runs one at a time, another gives every lane all the threads, and the
forward row runs the batches as claimsift does.

The forward and host rows see all the sentences once, untimed, before their timed pass (the host
row to record the network's outputs); claimsift's and the pipeline's rows see a few, or with
``--warm-all`` all of them too. ``eval/gpu_check.sh`` passes it: a GPU's first use of each batch
shape and buffer size can cost more than a whole run. On two CPU cores a fresh process's first
pass was no slower than its second (``eval/results/trace_cpu.jsonl``, from ``python -m
claimsift.eval.trace --model default --sentences 10000 --output eval/results/trace_cpu.jsonl``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

FORWARD = "forward pass alone (same inputs, on the device)"
HOST = "host path alone (network outputs replayed)"
UNROUNDED = "claimsift, widths not rounded up"
ROUNDED = "claimsift, widths rounded up"
ONE_LANE = "claimsift, one batch at a time (lanes=1)"
SHARED_THREADS = "claimsift, every lane on all threads"


@dataclass(frozen=True)
class Variant:
    """How one claimsift row of the table loads its detector (``None``: the detector's own choice)."""

    name: str
    quantize: bool = False
    runtime: str = "torch"
    precision: str = "auto"
    workers: int | None = None
    width_multiple: int | None = None
    onednn_cache: int | None = None  # oneDNN's primitive-cache capacity, set in the row's process
    lanes: int | None = None
    lane_threads: int | None = None  # intra-op threads per lane (None: the detector's split)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _test_documents(n: int) -> list[tuple[str, list[dict]]]:
    """Corpus test-split documents as ``(name, records)``, repeated in order until they hold ``n`` sentences."""
    from claimsift.data.corpus import load_records
    from claimsift.data.samples import group_documents

    docs = list(group_documents(load_records("test")).items())
    out, total = [], 0
    while total < n:
        for doc in docs:
            out.append(doc)
            total += len(doc[1])
            if total >= n:
                break
    return out


def _sentences(n: int) -> tuple[list[list[str]], list[str]]:
    out = [[r["text"] for r in records] for _, records in _test_documents(n)]
    return out, [s for d in out for s in d]


def _context(model: str) -> str:
    """The context layout (``"none"``, ``"window"``...) of a shipped model's name or a model folder."""
    from claimsift.model.detector import CONFIG_NAME, SHIPPED, DetectorConfig

    return DetectorConfig.from_json(SHIPPED.get(model, Path(model)) / CONFIG_NAME).context


def _on_gpu(device: str | None) -> bool:
    import torch

    return (device or "").startswith("cuda") or (device is None and torch.cuda.is_available())


def _gpu_mb(device: str | None) -> float | None:
    import torch

    return torch.cuda.max_memory_allocated() / 2**20 if _on_gpu(device) else None


def _run_detector(model: str, n: int, device: str | None, warm_all: bool, batch_size: int | None, v: Variant,
                  queue) -> None:
    if v.onednn_cache is not None:  # read by oneDNN at its first primitive: set before any model is built
        os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] = str(v.onednn_cache)
    from claimsift.data.corpus import load_records
    from claimsift.model.detector import ClaimDetector
    from claimsift.model.labels import LABELS
    from sklearn.metrics import f1_score

    det = ClaimDetector.from_pretrained(model, device=device, batch_size=batch_size, quantize=v.quantize,
                                        precision=v.precision, runtime=v.runtime, workers=v.workers, lanes=v.lanes)
    if v.width_multiple is not None:
        det.width_multiple = v.width_multiple
    if v.lane_threads is not None:
        det.lane_threads = v.lane_threads
    docs, flat = _sentences(n)
    det.classify_many(docs if warm_all else docs[:2])  # warm-up
    _sync(det.device)
    start = time.perf_counter()
    det.classify_many(docs)
    _sync(det.device)
    seconds = time.perf_counter() - start
    test = load_records("test")
    labels = [p["label"] for p in det.predict_records(test)]
    f1 = float(f1_score([r["label"] for r in test], labels, labels=list(LABELS), average="macro", zero_division=0))
    workers_mb = _children_peak_mb()
    det.close()
    queue.put({"sentences": len(flat), "seconds": seconds, "peak_rss_mb": _rss_mb(), "gpu_mb": _gpu_mb(device),
               "macro_f1": f1, "labels": labels, "workers": det.workers, "worker_rss_mb": workers_mb})


def _build_graph(model: str, quantize: bool, queue) -> None:
    """Export (and cache) the model's ONNX graph, so the timed rows load it ready."""
    from claimsift.model.detector import ClaimDetector

    ClaimDetector.from_pretrained(model, runtime="onnx", quantize=quantize, precision="fp32")
    queue.put({})


def _children_peak_mb() -> float | None:
    """The largest peak resident memory (VmHWM) of this process's live children, its workers; Linux.

    Not ``RUSAGE_CHILDREN``: a child's ``ru_maxrss`` counts the parent's memory it was forked
    with before it started Python afresh, several hundred MB that a worker never uses.
    """
    peaks = []
    try:
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/children") as f:
                pids = f.read().split()
            for pid in pids:
                with open(f"/proc/{pid}/status") as f:
                    peaks += [int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:")]
    except OSError:
        return None
    return max(peaks, default=None)


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _run_forward(model: str, n: int, device: str | None, batch_size: int | None, queue) -> None:
    """The network's forward pass alone on the same inputs: tokenized, padded and on the device first.

    The ceiling for ``classify_many``: what is left between the two is tokenization, collation,
    transfers and decoding. The batches run as many at once as claimsift runs them (``lanes``).
    """
    import torch
    from claimsift.model import host
    from claimsift.model.detector import ClaimDetector
    from claimsift.model.lanes import start_lanes

    det = ClaimDetector.from_pretrained(model, device=device, batch_size=batch_size, runtime="torch")
    docs, flat = _sentences(n)
    batches = []
    for group in det._groups(docs):  # the rows classify_many packs, in its groups and batches
        packed = host.pack(det.host, host.encode_group(det.host, group))
        batches += [inputs for _, inputs in det._batches(packed)]
    dtype = det.dtype  # the precision claimsift itself runs in there

    def forward(inputs):
        # inference_mode and autocast hold per thread: each lane enters its own
        with torch.inference_mode(), torch.autocast(det.device.type, dtype=dtype, enabled=dtype is not None):
            det.net(**inputs)

    def forward_all():
        if det.lanes == 1:
            for inputs in batches:
                forward(inputs)
        else:
            list(lanes.map(forward, batches))
        _sync(det.device)

    with start_lanes(det.lanes, det.lane_threads) as lanes:
        forward_all()  # warm-up
        start = time.perf_counter()
        forward_all()
        seconds = time.perf_counter() - start
    queue.put({"sentences": len(flat), "seconds": seconds, "peak_rss_mb": _rss_mb(), "gpu_mb": _gpu_mb(device),
               "macro_f1": None})


def _run_host(model: str, n: int, device: str | None, batch_size: int | None, workers: int | None, queue) -> None:
    """Everything but the network: ``classify_many`` with the network's outputs replayed.

    The network's outputs on these inputs are recorded in one untimed run, then handed back batch
    by batch in a timed one, so tokenization, packing, collation, transfers, decoding and result
    assembly are all that is left. That is the ceiling end to end can reach however fast the
    network gets (on a GPU the network is cheap and this is the gap the issue is about). One lane:
    the outputs are replayed in the order they were recorded, which lanes would not keep.
    """
    from claimsift.model.detector import ClaimDetector

    det = ClaimDetector.from_pretrained(model, device=device, batch_size=batch_size, runtime="torch", workers=workers,
                                        lanes=1)
    docs, flat = _sentences(n)
    recorded = _Recorder(det.net)
    det.net = recorded
    reference = det.classify_many(docs)
    det.net = _Replay(recorded.outputs)
    _sync(det.device)
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    replayed = det.classify_many(docs)
    _sync(det.device)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    # This process's CPU time, all its threads, not the workers': with workers, what is left here
    # (receiving packed rows, moving them to the device, sending outputs back) bounds a GPU.
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if [r.label for d in replayed for r in d] != [r.label for d in reference for r in d]:
        raise RuntimeError("the replayed run labelled differently: its batches were not the recorded ones")
    det.close()
    queue.put({"sentences": len(flat), "seconds": seconds, "peak_rss_mb": _rss_mb(), "gpu_mb": _gpu_mb(device),
               "macro_f1": None, "workers": det.workers, "cpu_us": cpu / len(flat) * 1e6})


class _Recorder:
    """Calls the network and keeps each batch's outputs."""

    def __init__(self, net):
        self.net, self.outputs = net, []

    def __call__(self, **inputs):
        out = self.net(**inputs)
        self.outputs.append(out)
        return out


class _Replay:
    """Returns recorded outputs in order, in place of the network."""

    def __init__(self, outputs):
        self.outputs = iter(outputs)

    def __call__(self, **inputs):
        return next(self.outputs)


def _run_pipeline(model: str, n: int, device: str | None, warm_all: bool, bf16: bool, queue) -> None:
    import torch
    from claimsift.model.bases import resolve_base
    from claimsift.model.detector import SHIPPED, DetectorConfig
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    cfg = DetectorConfig.from_json(Path(SHIPPED.get(model, model)) / "claimsift.json")
    base = resolve_base(cfg.base)
    clf = AutoModelForSequenceClassification.from_pretrained(str(base.path), num_labels=5, local_files_only=True)
    tok = AutoTokenizer.from_pretrained(str(base.path), local_files_only=True)
    dev = 0 if _on_gpu(device) else -1
    if bf16:
        clf = clf.to(torch.bfloat16)
    pipe = pipeline("text-classification", model=clf, tokenizer=tok, device=dev)
    _, flat = _sentences(n)
    pipe(flat if warm_all else flat[:8], batch_size=32, truncation=True, max_length=cfg.max_length)  # warm-up
    start = time.perf_counter()
    pipe(flat, batch_size=32, truncation=True, max_length=cfg.max_length)
    seconds = time.perf_counter() - start
    gpu = torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None
    queue.put({"sentences": len(flat), "seconds": seconds, "peak_rss_mb": _rss_mb(), "gpu_mb": gpu,
               "macro_f1": None})


def median_run(runs: list[dict]) -> dict:
    """One row from several runs of it: the median run's time, the largest peak memories, and the
    slowest and fastest sentences/s as ``range``. With an even count the slower middle run counts.

    >>> r = median_run([{"sentences": 10, "seconds": s, "peak_rss_mb": m, "gpu_mb": None}
    ...                 for s, m in ((2.0, 500), (1.0, 700), (4.0, 600))])
    >>> r["seconds"], r["peak_rss_mb"], r["range"]
    (2.0, 700, (2.5, 10.0))
    """
    ordered = sorted(runs, key=lambda r: r["seconds"])
    row = dict(ordered[len(ordered) // 2])
    for key in ("peak_rss_mb", "gpu_mb", "worker_rss_mb"):
        seen = [r[key] for r in runs if r.get(key) is not None]
        if seen:
            row[key] = max(seen)
    row["range"] = tuple(r["sentences"] / r["seconds"] for r in (ordered[-1], ordered[0]))
    return row


def _in_process(target, *args) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def median_seconds(times: list[float]) -> float:
    """The median of timed runs; of an even count the slower middle one, as :func:`median_run` takes.

    >>> median_seconds([4.0, 3.0, 9.0]), median_seconds([4.0, 3.0])
    (4.0, 4.0)
    """
    return sorted(times)[len(times) // 2]


def cold_start(model: str, *options: str) -> float:
    """Seconds for ``claimsift score`` on a ~1,000-word draft: import, load, score, exit."""
    # the repository's example draft: beside this module in a checkout, under the working directory otherwise
    here = Path(__file__).resolve().parents[1] / "examples" / "draft_insight.txt"
    draft = here if here.exists() else Path("examples") / "draft_insight.txt"
    text = draft.read_text(encoding="utf-8")
    words = len(text.split())
    long = "\n\n".join([text] * max(1, round(1000 / words)))
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / "claimsift_cold_start.txt"
    tmp.write_text(long, encoding="utf-8")
    command = [sys.executable, "-m", "claimsift.cli", "score", str(tmp), "--model", model, "--format", "jsonl",
               "--output", str(tmp.with_suffix(".jsonl")), *options]
    # Once untimed: the first ONNX run of a model exports and caches its graph; every later run,
    # which is what a desk sees, finds it.
    subprocess.run(command, check=True, capture_output=True)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def draft_folder(n: int, folder: Path) -> tuple[int, int, int]:
    """Write corpus test-split documents, repeated to ``n`` sentences, as ``.txt`` drafts in ``folder``.

    Paragraphs are kept, so the command line segments them as a desk's drafts. Returns
    ``(drafts, sentences, characters)``.
    """
    docs = _test_documents(n)
    folder.mkdir(parents=True, exist_ok=True)
    chars = 0
    for k, (name, records) in enumerate(docs):
        paragraphs: dict[int, list[str]] = {}
        for r in records:
            paragraphs.setdefault(r["para"], []).append(r["text"])
        text = "\n\n".join(" ".join(p) for _, p in sorted(paragraphs.items())) + "\n"
        (folder / f"{k:05d}_{name}.txt").write_text(text, encoding="utf-8")
        chars += len(text)
    return len(docs), sum(len(records) for _, records in docs), chars


def score_folder(model: str, folder: Path, *options: str) -> tuple[float, str]:
    """Seconds for ``claimsift score FOLDER`` to JSONL, import to exit, and the runtime it ran."""
    out = folder.with_name(folder.name + ".jsonl")
    command = [sys.executable, "-m", "claimsift.cli", "-v", "score", str(folder), "--model", model,
               "--output", str(out), *options]
    start = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    ran = options[options.index("--runtime") + 1] if "--runtime" in options else "auto"
    if ran == "auto":  # the command logs its choice when a large batch moves it to torch
        ran = "torch" if "runtime: torch" in done.stderr else "onnx"
    return seconds, ran


def break_even(rows: dict, colds: dict, sentence_chars: float) -> str | None:
    """A line on when PyTorch's later start is repaid by its faster labelling, from this run's figures.

    >>> rows = {"claimsift": {"sentences": 400, "seconds": 1.0}, "claimsift onnx": {"sentences": 150, "seconds": 1.0}}
    >>> break_even(rows, {"torch": 12.0, "onnx": 2.0}, 90.0)[:60]
    'PyTorch (`claimsift`) starts 10.0 s later than ONNX Runtime '
    """
    if "claimsift onnx" not in rows or "onnx" not in colds:
        return None
    rate = {k: rows[k]["sentences"] / rows[k]["seconds"] for k in ("claimsift", "claimsift onnx")}
    later = colds["torch"] - colds["onnx"]
    saved = 1 / rate["claimsift onnx"] - 1 / rate["claimsift"]  # seconds a sentence
    head = (f"PyTorch (`claimsift`) starts {later:.1f} s later than ONNX Runtime (`claimsift onnx`) and labels "
            f"{rate['claimsift'] / rate['claimsift onnx']:.2f}x as fast")
    if saved <= 0:
        return head + ": ONNX Runtime is ahead at any size here."
    n = max(later, 0) / saved
    from claimsift.cli import TORCH_ABOVE_CHARS

    return (head + f": it is ahead after about {n:,.0f} sentences, {n * sentence_chars:,.0f} characters of these "
            f"drafts. The command line's `--runtime auto` moves to PyTorch past {TORCH_ABOVE_CHARS:,} characters on "
            "a CPU that lists AMX-BF16 or AVX512-BF16.")


def machine() -> str:
    import torch

    cpu = "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (f"{cpu}, {os.cpu_count()} cores visible, torch {torch.__version__} with {torch.get_num_threads()} "
            f"threads, {gpu}, Python {platform.python_version()}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="default")
    p.add_argument("--sentences", type=int, default=2000)
    p.add_argument("--device", default=None)
    p.add_argument("--batch-size", type=int, default=None,
                   help="claimsift's batch size (default: the detector's, 64 on CPU and 512 on GPU)")
    p.add_argument("--quantize", action="store_true", help="also time dynamic int8 on CPU")
    p.add_argument("--onnx", action="store_true", help="also time the ONNX Runtime path (CPU)")
    p.add_argument("--workers", default=None,
                   help="claimsift's host-side worker processes (default: the detector's choice, none on a "
                        "CPU); a comma list, e.g. 0,6,12, adds a row for each")
    p.add_argument("--onednn-cache", default=None,
                   help="a comma list of oneDNN primitive-cache capacities (claimsift caps it for bf16 on a CPU: "
                        "limit_onednn_cache); adds a row for each, measured against that cap in one run")
    p.add_argument("--repeats", type=int, default=1,
                   help="time every row this many times, in rounds, and report each row's median run")
    p.add_argument("--warm-all", action="store_true",
                   help="warm claimsift's and the pipeline's rows up on all the sentences, untimed, as the forward "
                        "and host rows always are (default: a few); for a GPU, whose first use of each batch "
                        "shape and buffer size costs more than a 30,000-sentence run")
    p.add_argument("--cli", action="store_true",
                   help="also time `claimsift score` over a folder of the same sentences as drafts, import to exit, "
                        "with the command's auto runtime, ONNX Runtime and PyTorch")
    p.add_argument("--output", type=Path, default=Path("eval/results/speed.md"))
    p.add_argument("--append", action="store_true",
                   help="add this model's section to --output instead of replacing the file (one file, both models)")
    args = p.parse_args(argv)
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    from claimsift.model.detector import BF16_CPU_WIDTH_MULTIPLE, pick_runtime, width_multiple
    from claimsift.model.precision import cpu_lists_bf16, precision_name, requested, resolve_precision

    gpu = _on_gpu(args.device)
    precision = precision_name(resolve_precision("auto", args.device or ("cuda" if gpu else "cpu")))
    half = precision == "bf16"
    counts = [int(w) for w in args.workers.split(",")] if args.workers else []
    caches = [int(c) for c in args.onednn_cache.split(",")] if args.onednn_cache else []
    variants = [Variant("claimsift")]
    variants += [Variant(f"claimsift, {w} workers", workers=w) for w in counts]
    if not gpu:  # two batches through the network at once on a CPU, each on its share of the threads
        import torch  # what each buys, in this run

        variants += [Variant(ONE_LANE, lanes=1), Variant(SHARED_THREADS, lane_threads=torch.get_num_threads())]
    if half and not gpu:  # bf16 on a CPU pads rows with context to repeat oneDNN's kernels: the other choice too
        rounds = width_multiple(_context(args.model), True, "cpu") > 1
        variants += [Variant(UNROUNDED, width_multiple=1) if rounds
                     else Variant(ROUNDED, width_multiple=BF16_CPU_WIDTH_MULTIPLE),
                     Variant("claimsift fp32", precision="fp32")]
    variants += [Variant(f"claimsift, oneDNN cache {c}", onednn_cache=c) for c in caches]
    variants += [Variant("claimsift int8", quantize=True, precision="fp32")] * args.quantize
    # the library's own default (runtime="auto") here; ONNX Runtime where the CPU lacks native bf16
    library = "torch" if gpu else pick_runtime("auto", "cpu", requested("auto"), False, cpu_lists_bf16())
    if args.onnx or library == "onnx":
        variants += [Variant("claimsift onnx", runtime="onnx", precision="fp32")]
        variants += [Variant("claimsift onnx int8", quantize=True, runtime="onnx", precision="fp32")] * args.quantize
    common = (args.model, args.sentences, args.device)
    jobs = {v.name: (_run_detector, *common, args.warm_all, args.batch_size, v) for v in variants}
    jobs[FORWARD] = (_run_forward, *common, args.batch_size)
    jobs[HOST] = (_run_host, *common, args.batch_size, None)
    # The baseline is the plain pipeline a user gets: fp32 on a CPU. On a GPU, and on a CPU with
    # native bf16, a bf16 pipeline shows how much of the gap is precision alone.
    pipe = "pipeline bf16 (batch 32)" if gpu else "pipeline (batch 32)"
    jobs[pipe] = (_run_pipeline, *common, args.warm_all, gpu)
    if half and not gpu:
        jobs["pipeline bf16 (batch 32)"] = (_run_pipeline, *common, args.warm_all, True)
    # Each ONNX graph is exported in a process of its own first: an export builds the PyTorch model
    # beside the graph (on two EPYC cores a row that exported peaked at 1,276 MB, one that loaded the
    # cached graph at 358 MB, ad hoc), and a row's peak memory is what scoring costs.
    for quantize in sorted({v.quantize for v in variants if v.runtime == "onnx"}):
        _in_process(_build_graph, args.model, quantize)
    # Rounds rather than one row's repeats back to back: a machine that slows down for a minute
    # then slows one round of every row, not every run of one row.
    runs: dict[str, list[dict]] = {name: [] for name in jobs}
    for _ in range(args.repeats):
        for name, (target, *job) in jobs.items():
            runs[name].append(_in_process(target, *job))
    rows = {name: median_run(r) for name, r in runs.items()}
    starts = {"auto (the command's default)": (), "torch": ("--runtime", "torch")}
    if args.onnx:
        starts["onnx"] = ("--runtime", "onnx")
        if args.quantize:
            starts["onnx int8"] = ("--runtime", "onnx", "--quantize")
    # a single cold start on a shared machine has varied from 3.3 to 5.5 s: timed as often as the
    # rows, in rounds too
    cold_runs: dict[str, list[float]] = {name: [] for name in starts}
    for _ in range(args.repeats):
        for name, options in starts.items():
            cold_runs[name].append(cold_start(args.model, *options))
    colds = {name: median_seconds(times) for name, times in cold_runs.items()}
    folder_runs: dict[str, list[tuple[float, str]]] = {}
    if args.cli:  # after the cold starts, whose untimed first runs export the ONNX graphs
        import tempfile

        scratch = Path(tempfile.mkdtemp(prefix="claimsift_bench_"))
        n_drafts, n_sentences, n_chars = draft_folder(args.sentences, scratch / "drafts")
        device = ("--device", args.device) if args.device else ()
        folder_runs = {name: [] for name in ("auto", "onnx", "torch")}
        try:
            for _ in range(args.repeats):
                for name in folder_runs:
                    options = (*device, *(("--runtime", name) if name != "auto" else ()))
                    folder_runs[name].append(score_folder(args.model, scratch / "drafts", *options))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    base = rows[pipe]["sentences"] / rows[pipe]["seconds"]
    lines = [
        f"# Speed: `{args.model}` model", "",
        f"Machine: {machine()}.", "",
        f"Produced by `python -m claimsift.eval.bench --model {args.model} --sentences {args.sentences}"
        + (f" --device {args.device}" if args.device else "")
        + (f" --batch-size {args.batch_size}" if args.batch_size else "")
        + (f" --workers {args.workers}" if args.workers else "")
        + (f" --onednn-cache {args.onednn_cache}" if args.onednn_cache else "")
        + (" --quantize" if args.quantize else "") + (" --onnx" if args.onnx else "") + (" --cli" if args.cli else "")
        + (f" --repeats {args.repeats}" if args.repeats > 1 else "") + (" --warm-all" if args.warm_all else "")
        + (" --append" if args.append else "")
        + "`; corpus test-split sentences, "
        + (f"each row the median of {args.repeats} runs in {args.repeats} rounds (its slowest and fastest "
           "under 'range'; peak memory the largest)." if args.repeats > 1 else "one run.")
        + (" Every row is timed after an untimed pass over the same sentences." if args.warm_all else ""), "",
        "| path | sentences | seconds | sentences/s | range | vs pipeline | peak RSS (MB) | GPU peak (MB) "
        "| test macro-F1 | test labels as `claimsift` |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        sps = r["sentences"] / r["seconds"]
        gpu_peak = f"{r['gpu_mb']:.0f}" if r["gpu_mb"] else "-"
        f1 = (f"{r['macro_f1']:.3f}" if r["macro_f1"] is not None
              else "n/a (untrained head)" if name.startswith("pipeline") else "-")
        same = "-"
        if r.get("labels") and name != "claimsift":  # how many test labels this path changes
            ref = rows["claimsift"]["labels"]
            same = f"{sum(a == b for a, b in zip(ref, r['labels'], strict=True)) / len(ref):.2%}"
        spread = "-" if len(runs[name]) == 1 else "{:.0f}-{:.0f}".format(*r["range"])
        lines.append(f"| {name} | {r['sentences']} | {r['seconds']:.1f} | {sps:.1f} | {spread} | {sps / base:.2f}x | "
                     f"{r['peak_rss_mb']:.0f} | {gpu_peak} | {f1} | {same} |")
    lines += ["", f"`claimsift` is PyTorch with `precision='auto'`, which ran in {precision} on this machine with "
              f"{rows['claimsift']['workers']} host-side worker processes; 'vs pipeline' is against `{pipe}`. "
              "The library's default (`ClaimDetector.from_pretrained(model)`, `runtime='auto'`) here is "
              + ("that row." if library == "torch" else "`claimsift onnx`: this CPU does not list native bf16.")]
    helped = {name: r for name, r in rows.items() if r.get("workers")}
    if helped:
        lines += ["", "Peak RSS is the main process's; each worker process peaked at "
                  + ", ".join(f"{r['worker_rss_mb']:.0f} MB ({name})" for name, r in helped.items()
                              if r.get("worker_rss_mb")) + "."]
    forward = rows[FORWARD]
    e2e = rows["claimsift"]
    share = forward["seconds"] / e2e["seconds"]
    lines += ["", f"End to end (`claimsift`, PyTorch) runs at {share:.0%} of the forward pass alone on the same "
              "inputs" + ("; the rest is tokenization, collation, transfers and attribution decoding." if share < 0.95
                          else ": the network is the cost; above 100% is run-to-run noise.")]
    host = rows[HOST]["sentences"] / rows[HOST]["seconds"]
    lines += ["", f"The host path alone (tokenization, packing, collation, transfers, decoding and results, with the "
              f"network's recorded outputs replayed; {rows[HOST]['workers']} worker processes) runs at {host:,.0f} "
              "sentences/s: end to end cannot pass it however fast the network gets."]
    if rows[HOST]["workers"]:
        cpu_us = rows[HOST]["cpu_us"]
        lines[-1] += (f" Of that work this process, the one feeding the network, did {cpu_us:.1f} µs of CPU a "
                      f"sentence and the workers the rest: a bound of {1e6 / cpu_us:,.0f} sentences/s however many "
                      "workers there are.")
    lines += ["", "Cold start (`claimsift score` on a ~1,000-word draft, import to exit; ONNX with its graph "
              "already exported and cached, as on every run after the first"
              + (f"; the median of {args.repeats} runs, the slower middle one of an even count, and their range"
                 if args.repeats > 1 else "") + "):", ""]
    lines += [f"- {name}: {colds[name]:.1f} s" + (f" ({min(t):.1f}-{max(t):.1f} s)" if len(t) > 1 else "")
              for name, t in cold_runs.items()] + [""]
    if not gpu:
        chars = sum(len(t) + 1 for t in _sentences(args.sentences)[1]) / rows["claimsift"]["sentences"]
        line = break_even(rows, colds, chars)
        lines += [line, ""] if line else []
    if folder_runs:
        lines += [f"The command line over a folder of {n_drafts} drafts ({n_sentences:,} "
                  f"sentences, {n_chars:,} characters; `claimsift score FOLDER --output FILE.jsonl`, import to exit"
                  + (f"; the median of {args.repeats} runs and their range" if args.repeats > 1 else "") + "):", ""]
        for name, runs_ in folder_runs.items():
            times = [t for t, _ in runs_]
            ran = sorted({r for _, r in runs_})
            lines.append(f"- {'auto (the default; it ran ' + ' and '.join(ran) + ')' if name == 'auto' else name}: "
                         f"{median_seconds(times):.1f} s" + (f" ({min(times):.1f}-{max(times):.1f} s)"
                                                            if len(times) > 1 else ""))
        lines.append("")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines)
    if args.append and args.output.exists():
        text = args.output.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + text
    args.output.write_text(text, encoding="utf-8")
    print("\n".join(lines))
    print(json.dumps({"rows": {k: {f: v for f, v in r.items() if f != "labels"} for k, r in rows.items()},
                      "cold_start_s": colds,
                      "folder_s": {k: median_seconds([t for t, _ in v]) for k, v in folder_runs.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
