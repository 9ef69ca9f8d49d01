"""The speed benchmark's table: every row, repeated in rounds, reported as its median run."""

import os

import claimsift.model.detector as detector_module
import torch
from claimsift.eval import bench


class _Queue(list):
    put = list.append


def _in_this_process(target, *args):
    """Stands in for ``bench._in_process``: the rows' own code, without a process each."""
    queue = _Queue()
    target(*args, queue)
    return queue[0]


def _table_rows(text: str) -> list[str]:
    """The speed table's body lines, header and rule left out."""
    return [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| path")]


def _row_names(text: str) -> list[str]:
    return [line.split(" | ")[0][2:] for line in _table_rows(text)]


def test_the_benchmark_reports_median_runs_their_range_and_the_feeding_processs_cpu(tiny_model_dir, tmp_path,
                                                                                     monkeypatch):
    calls = []

    def in_this_process(target, *args):
        calls.append(target.__name__)
        return _in_this_process(target, *args)

    monkeypatch.setattr(bench, "_in_process", in_this_process)
    starts = []
    times = iter([3.0, 8.0, 5.0, 6.0])  # auto, torch, then again: cold starts run in rounds too
    monkeypatch.setattr(bench, "cold_start", lambda model, *options: starts.append(options) or next(times))
    # as on a GPU machine: the detector's own choice is one worker, so the host row uses one
    monkeypatch.setattr(detector_module, "_workers", lambda workers, device, tok: 1 if workers is None else workers)
    out = tmp_path / "speed.md"
    assert bench.main(["--model", str(tiny_model_dir), "--sentences", "30", "--repeats", "2",
                       "--workers", "0", "--output", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    rows = _table_rows(text)
    names = _row_names(text)
    assert names[:2] == ["claimsift", "claimsift, 0 workers"] and bench.FORWARD in names and bench.HOST in names
    # the ONNX graph is exported in a process of its own before any row is timed
    assert calls[0] == "_build_graph" and calls.count("_build_graph") == 1
    calls = calls[1:]
    assert len(calls) == 2 * len(names)  # every row twice, in rounds: the first round ends before the second
    assert calls[:len(names)] == calls[len(names):]
    for line in rows:
        low, high = (float(x) for x in line.split(" | ")[4].split("-"))
        sps = float(line.split(" | ")[3])
        assert low - 0.5 <= sps <= high + 0.5  # the range is printed to whole sentences/s
    assert "median of 2 runs" in text and "--repeats 2" in text
    assert starts == [(), ("--runtime", "torch")] * 2
    assert "- auto (the command's default): 5.0 s (3.0-5.0 s)" in text and "- torch: 8.0 s (6.0-8.0 s)" in text
    assert "µs of CPU a sentence and the workers the rest" in text  # the host row ran with a worker
    # fp32 (the suite's pin) is the library's default in ONNX Runtime: timed without --onnx, and named
    assert "claimsift onnx" in names and "The library's default" in text and "here is `claimsift onnx`" in text


def test_median_run_takes_the_middle_time_and_the_largest_memory():
    runs = [{"sentences": 100, "seconds": s, "peak_rss_mb": m, "gpu_mb": None} for s, m in ((3.0, 10), (1.0, 30))]
    row = bench.median_run(runs)
    assert row["seconds"] == 3.0  # of two, the slower
    assert row["peak_rss_mb"] == 30 and row["gpu_mb"] is None
    assert row["range"] == (100 / 3.0, 100.0)


def test_warm_all_scores_every_sentence_untimed_before_the_timed_run(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "_in_process", _in_this_process)
    monkeypatch.setattr(bench, "cold_start", lambda model, *options: 1.5)
    sizes = []
    classify_many = detector_module.ClaimDetector.classify_many
    monkeypatch.setattr(detector_module.ClaimDetector, "classify_many",
                        lambda self, docs: sizes.append(sum(map(len, docs))) or classify_many(self, docs))
    out = tmp_path / "speed.md"
    assert bench.main(["--model", str(tiny_model_dir), "--sentences", "30", "--warm-all", "--output", str(out)]) == 0
    n = int(next(line for line in out.read_text(encoding="utf-8").splitlines()
                 if line.startswith("| claimsift |")).split(" | ")[1])
    assert sizes[:2] == [n, n]  # the claimsift row: a whole untimed pass, then the timed one
    text = out.read_text(encoding="utf-8")
    assert "--warm-all" in text and "after an untimed pass" in text


def test_bf16_on_a_cpu_adds_rows_for_one_lane_fp32_and_widths_not_rounded_up(tiny_model_dir, tmp_path, monkeypatch):
    """Where claimsift runs in bf16 on a CPU the table shows, in the same run, what its lanes buy (one
    batch at a time, and every lane on all the threads rather than its share), what its rounded-up
    widths buy (the same path with them off) and what the precision buys (fp32, a bf16 pipeline)."""
    monkeypatch.setenv("CLAIMSIFT_PRECISION", "bf16")
    monkeypatch.setattr(bench, "_in_process", _in_this_process)
    monkeypatch.setattr(bench, "cold_start", lambda model, *options: 1.5)
    multiples, lanes, threads = [], [], []
    classify_many = detector_module.ClaimDetector.classify_many

    def recording(self, docs):
        multiples.append(self.width_multiple)
        lanes.append(self.lanes)
        threads.append(self.lane_threads)
        return classify_many(self, docs)

    monkeypatch.setattr(detector_module.ClaimDetector, "classify_many", recording)
    out = tmp_path / "speed.md"
    assert bench.main(["--model", str(tiny_model_dir), "--sentences", "30", "--output", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    names = _row_names(text)
    assert names[:5] == ["claimsift", bench.ONE_LANE, bench.SHARED_THREADS, bench.UNROUNDED, "claimsift fp32"]
    assert "pipeline bf16 (batch 32)" in names
    # warm-up, timed pass and test split per row: claimsift (bf16, rounded), one lane (rounded), lanes
    # on all threads (rounded), not rounded, fp32 (never rounded)
    assert multiples[:15] == [16] * 9 + [1] * 6
    assert lanes[:15] == [2] * 3 + [1] * 3 + [2] * 9
    assert threads[:15] == [None] * 6 + [torch.get_num_threads()] * 3 + [None] * 6
    assert "ran in bf16" in text
    assert "here is that row" in text and "claimsift onnx" not in names  # bf16 asked for: torch is the default


def test_onednn_cache_rows_run_with_that_capacity(tiny_model_dir, tmp_path, monkeypatch):
    """``--onednn-cache 32`` adds a row whose process sets oneDNN's cache to 32 before its model is built."""
    monkeypatch.setenv("CLAIMSIFT_PRECISION", "fp32")
    monkeypatch.setenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "8")  # restored afterwards: the row sets it in-process
    monkeypatch.setattr(bench, "_in_process", _in_this_process)
    monkeypatch.setattr(bench, "cold_start", lambda model, *options: 1.5)
    seen = []
    from_pretrained = detector_module.ClaimDetector.from_pretrained.__func__
    def recording(cls, *args, **kwargs):
        if "lanes" in kwargs:  # a row's load (not the graph export's, before the rows, or its inner load)
            seen.append(os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"])
        return from_pretrained(cls, *args, **kwargs)

    monkeypatch.setattr(detector_module.ClaimDetector, "from_pretrained", classmethod(recording))
    out = tmp_path / "speed.md"
    assert bench.main(["--model", str(tiny_model_dir), "--sentences", "30", "--onednn-cache", "32",
                       "--output", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    names = _row_names(text)
    lane_rows = (bench.ONE_LANE, bench.SHARED_THREADS)
    assert [n for n in names if n not in lane_rows][:2] == ["claimsift", "claimsift, oneDNN cache 32"]
    # the default row keeps the cap it found; the cache row loads under its own (each row loads once, in order)
    assert seen[0] == "8" and seen[names.index("claimsift, oneDNN cache 32")] == "32"
    assert "--onednn-cache 32" in text


def test_cli_rows_time_the_command_over_a_folder_and_name_the_break_even(tmp_path, monkeypatch):
    """``--cli`` times ``claimsift score FOLDER`` per runtime, in rounds, and says which one auto ran; with
    ``--onnx`` the table also says after how many sentences PyTorch's later start is repaid."""

    def row(target, *args):  # the rows' figures, as their processes would report them: PyTorch 2x ONNX
        variant = args[-1] if target is bench._run_detector else None
        seconds = 2.0 if variant is not None and variant.runtime == "onnx" else 1.0
        return {"sentences": 30, "seconds": seconds, "peak_rss_mb": 100.0, "gpu_mb": None, "macro_f1": None,
                "labels": None, "workers": 0}

    monkeypatch.setattr(bench, "_in_process", row)
    monkeypatch.setattr(bench, "cold_start", lambda model, *options: 9.0 if "torch" in options else 2.0)
    folders, scratch = [], []

    def score_folder(model, folder, *options):
        folders.append(([f.read_text(encoding="utf-8") for f in sorted(folder.glob("*.txt"))], options))
        scratch.append(folder)
        return (4.0 if len(folders) <= 3 else 6.0), ("torch" if "--runtime" not in options else options[-1])

    monkeypatch.setattr(bench, "score_folder", score_folder)
    out = tmp_path / "speed.md"
    assert bench.main(["--model", "default", "--sentences", "30", "--onnx", "--cli", "--repeats", "2",
                       "--output", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert [o for _, o in folders] == [(), ("--runtime", "onnx"), ("--runtime", "torch")] * 2
    drafts = folders[0][0]
    assert drafts and all(d.strip() for d in drafts)
    assert f"over a folder of {len(drafts)} drafts" in text
    assert "- auto (the default; it ran torch): 6.0 s (4.0-6.0 s)" in text and "- onnx: 6.0 s" in text
    # 7 s later, 1/15 - 1/30 s a sentence saved: repaid after 210 sentences
    assert not scratch[0].exists()  # the drafts written for the run are removed
    assert "starts 7.0 s later than ONNX Runtime (`claimsift onnx`) and labels 2.00x as fast" in text
    assert "ahead after about 210 sentences" in text and "`--runtime auto` moves to PyTorch" in text


def test_draft_folder_writes_whole_test_documents_up_to_the_sentences_asked(tmp_path):
    drafts, sentences, chars = bench.draft_folder(500, tmp_path / "d")
    files = sorted((tmp_path / "d").glob("*.txt"))
    assert len(files) == drafts and sentences >= 500
    assert chars == sum(len(f.read_text(encoding="utf-8")) for f in files)
    assert any("\n\n" in f.read_text(encoding="utf-8") for f in files)  # paragraphs kept
    _, fewer, _ = bench.draft_folder(50, tmp_path / "e")
    assert 50 <= fewer < sentences


def test_a_sentence_model_in_bf16_on_a_cpu_times_widths_rounded_up_as_the_other_choice(tiny_base, tmp_path,
                                                                                        monkeypatch):
    """A model reading sentences alone is not padded (``width_multiple`` 1): its other-choice row rounds."""
    monkeypatch.setenv("CLAIMSIFT_PRECISION", "bf16")
    folder = tmp_path / "none"
    detector_module.ClaimDetector.new(str(tiny_base), device="cpu", adapter="full",
                                      context="none").save_pretrained(folder)
    assert detector_module.ClaimDetector.from_pretrained(folder).width_multiple == 1
    seen = {}

    def row(target, *args):  # the variants as the rows' processes would get them, without running them
        if target is bench._run_detector:
            seen[args[-1].name] = args[-1].width_multiple
        return {"sentences": 30, "seconds": 1.0, "peak_rss_mb": 100.0, "gpu_mb": None, "macro_f1": None,
                "labels": None, "workers": 0}

    monkeypatch.setattr(bench, "_in_process", row)
    monkeypatch.setattr(bench, "cold_start", lambda model, *options: 1.5)
    out = tmp_path / "speed.md"
    assert bench.main(["--model", str(folder), "--sentences", "30", "--output", str(out)]) == 0
    assert seen[bench.ROUNDED] == detector_module.BF16_CPU_WIDTH_MULTIPLE and bench.UNROUNDED not in seen
    assert seen["claimsift"] is None  # the default row keeps the detector's own choice
