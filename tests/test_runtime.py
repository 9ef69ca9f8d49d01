"""The ONNX Runtime path: same results as torch, exported once, cached with its hash, CPU only."""

import logging

import pytest
from claimsift.model import runtime as rt
from claimsift.model.labels import LABELS

from claimsift import ClaimDetector

DRAFT = ('Dr. Anya Petrova, a geopolitical analyst at the Institute for Strategic Studies, notes, '
         '"The Miami talks are a gamble."\n\nShare your thoughts below!\nPrices rose 3% on Monday.\n'
         'Mayor Ruth Ong said the bridge would reopen in May, officials said.')


def _max_diff(a, b):
    return max(abs(x.scores[k] - y.scores[k]) for x, y in zip(a, b, strict=True) for k in LABELS)


def test_onnx_matches_torch_and_is_exported_once(tiny_model_dir, monkeypatch):
    torch_results = ClaimDetector.from_pretrained(tiny_model_dir, device="cpu").score(DRAFT)
    first = ClaimDetector.from_pretrained(tiny_model_dir, runtime="onnx")
    assert isinstance(first.net, rt.OnnxNet) and first.net.path.exists()
    got = first.score(DRAFT)
    assert [r.label for r in got] == [r.label for r in torch_results]
    assert [r.attribution for r in got] == [r.attribution for r in torch_results]
    assert _max_diff(got, torch_results) < 1e-4

    def no_export(*args, **kwargs):
        raise AssertionError("the cached graph should have been used")

    monkeypatch.setattr(rt, "export", no_export)
    again = ClaimDetector.from_pretrained(tiny_model_dir, runtime="onnx").score(DRAFT)
    assert _max_diff(again, got) < 1e-6


def test_a_damaged_onnx_cache_is_exported_again(tiny_model_dir):
    det = ClaimDetector.from_pretrained(tiny_model_dir, runtime="onnx")
    before = det.score(DRAFT)
    with open(det.net.path, "r+b") as f:
        f.seek(-8, 2)
        f.write(b"\x00" * 8)
    rebuilt = ClaimDetector.from_pretrained(tiny_model_dir, runtime="onnx")
    assert _max_diff(rebuilt.score(DRAFT), before) < 1e-6


def test_int8_onnx_is_a_separate_graph_and_scores(tiny_model_dir):
    fp32 = ClaimDetector.from_pretrained(tiny_model_dir, runtime="onnx")
    int8 = ClaimDetector.from_pretrained(tiny_model_dir, runtime="onnx", quantize=True)
    assert int8.net.path != fp32.net.path and int8.net.path.stat().st_size < fp32.net.path.stat().st_size
    results = int8.score(DRAFT)
    assert len(results) == 4 and all(abs(sum(r.scores.values()) - 1) < 1e-4 for r in results)


def _ops(path) -> set[str]:
    import onnx

    return {n.op_type for n in onnx.load(str(path)).graph.node}


@pytest.mark.parametrize("context", ["window", "both"])
def test_graphs_are_fused_and_int8_leaves_the_fused_attention_in_fp32(tiny_base, tmp_path, monkeypatch, caplog,
                                                                       context):
    monkeypatch.setenv("CLAIMSIFT_CACHE", str(tmp_path / "cache"))
    folder = ClaimDetector.new(str(tiny_base), device="cpu", adapter="full", context=context).save_pretrained(
        tmp_path / "m")
    torch_results = ClaimDetector.from_pretrained(folder).score(DRAFT)
    fp32 = ClaimDetector.from_pretrained(folder, runtime="onnx")
    assert {"Attention", "SkipLayerNormalization"} <= _ops(fp32.net.path)
    assert _max_diff(fp32.score(DRAFT), torch_results) < 1e-4
    with caplog.at_level(logging.WARNING):
        int8 = _ops(ClaimDetector.from_pretrained(folder, runtime="onnx", quantize=True).net.path)
    assert "Attention" in int8 and "MatMulInteger" in int8 and "QAttention" not in int8
    assert not caplog.records  # the quantizer's advice on the root logger is not shown to users


def test_a_fusion_that_changes_the_outputs_is_not_kept(tiny_base, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("CLAIMSIFT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(rt, "FUSION_TOLERANCE", -1.0)  # any difference at all counts as a change
    folder = ClaimDetector.new(str(tiny_base), device="cpu", adapter="full").save_pretrained(tmp_path / "m")
    det = ClaimDetector.from_pretrained(folder, runtime="onnx")
    assert "Attention" not in _ops(det.net.path) and "runs unfused" in caplog.text
    assert _max_diff(det.score(DRAFT), ClaimDetector.from_pretrained(folder).score(DRAFT)) < 1e-4
    assert sorted(p.name for p in det.net.path.parent.iterdir()) == [det.net.path.name, det.net.path.name + ".sha256"]


def test_an_export_removes_its_models_graphs_from_earlier_recipes_only(tiny_base, tmp_path, monkeypatch):
    monkeypatch.setenv("CLAIMSIFT_CACHE", str(tmp_path / "cache"))
    folder = ClaimDetector.new(str(tiny_base), device="cpu", adapter="full").save_pretrained(tmp_path / "m")
    int8 = ClaimDetector.from_pretrained(folder, runtime="onnx", quantize=True).net.path
    key = int8.name.split("-", 1)[0]
    stale = [f"{key}.onnx", f"{key}.onnx.sha256", f"{key}-int8pc.onnx", f"{key}-int8pc.onnx.sha256"]
    other, in_flight = "0" * 20, f"{int8.name}.int8.tmp"
    kept = [f"{other}.onnx", f"{other}.onnx.sha256", in_flight]
    for name in stale + kept:
        (int8.parent / name).write_text("x")
    fp32 = ClaimDetector.from_pretrained(folder, runtime="onnx").net.path
    assert sorted(p.name for p in int8.parent.iterdir()) == sorted(
        kept + [fp32.name, fp32.name + ".sha256", int8.name, int8.name + ".sha256"])


def test_export_leaves_the_network_as_it_found_it(tiny_model_dir, tmp_path):
    net = ClaimDetector.from_pretrained(tiny_model_dir, runtime="torch").net
    before = net.encoder.config._attn_implementation
    rt.export(net, tmp_path / "g.onnx", token_types=False, quantize=False, window=False)
    assert not net.training and net.encoder.config._attn_implementation == before


def test_onnx_is_cpu_only_and_cannot_be_saved(tiny_model_dir, tmp_path):
    with pytest.raises(ValueError, match="CPU"):
        ClaimDetector.from_pretrained(tiny_model_dir, runtime="onnx", device="cuda")
    with pytest.raises(ValueError, match="runtime must be"):
        ClaimDetector.from_pretrained(tiny_model_dir, runtime="tensorrt")
    with pytest.raises(TypeError, match="runtime='torch'"):
        ClaimDetector.from_pretrained(tiny_model_dir, runtime="onnx").save_pretrained(tmp_path / "copy")


def test_auto_runs_onnx_on_cpu_and_falls_back_to_torch_when_export_fails(tiny_base, tmp_path, monkeypatch, caplog):
    folder = ClaimDetector.new(str(tiny_base), device="cpu", adapter="full").save_pretrained(tmp_path / "m")
    assert isinstance(ClaimDetector.from_pretrained(folder, runtime="auto").net, rt.OnnxNet)

    def broken(*args, **kwargs):
        raise RuntimeError("exporter cannot trace this model")

    monkeypatch.setattr(rt, "export", broken)
    other = ClaimDetector.new(str(tiny_base), device="cpu", adapter="full", context="none")
    folder2 = other.save_pretrained(tmp_path / "m2")  # a different model: no cached graph
    det = ClaimDetector.from_pretrained(folder2, runtime="auto")
    assert not isinstance(det.net, rt.OnnxNet) and "cannot trace" in caplog.text
    assert len(det.score(DRAFT)) == 4
    with pytest.raises(RuntimeError, match="cannot trace"):
        ClaimDetector.from_pretrained(folder2, runtime="onnx")


def test_a_cached_onnx_load_scores_without_importing_transformers(tiny_model_dir):
    """transformers is a second or two of every cold start; the cached ONNX path needs none of it."""
    import subprocess
    import sys

    first = ClaimDetector.from_pretrained(tiny_model_dir, runtime="onnx")  # exports, records tokenizer facts
    code = ("import sys; from claimsift import ClaimDetector; "
            f"d = ClaimDetector.from_pretrained({str(tiny_model_dir)!r}, runtime='onnx'); "
            "print([round(p, 6) for p in d.score(sys.argv[1])[0].scores.values()]); "
            "print('transformers' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code, DRAFT], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    scores, imported = run.stdout.strip().splitlines()[-2:]
    assert imported == "False"
    assert scores == str([round(p, 6) for p in first.score(DRAFT)[0].scores.values()])


def test_the_command_line_scores_through_onnx_runtime_without_importing_torch(tiny_model_dir, tmp_path):
    """Once a graph is cached, `claimsift score` on a CPU loads no torch: its import was most of a cold
    start (2.4 s of about 4 on two Xeon cores)."""
    import os
    import subprocess
    import sys

    from claimsift.model import detector

    if detector._gpu_driver():
        pytest.skip("a machine with a GPU driver asks torch whether CUDA is there")
    ClaimDetector.from_pretrained(tiny_model_dir, runtime="onnx")  # exports and caches the graph, with torch
    draft, out = tmp_path / "draft.txt", tmp_path / "out.jsonl"
    draft.write_text(DRAFT, encoding="utf-8")
    code = ("import sys\nfrom claimsift.cli import main\n"
            f"rc = main(['score', {str(draft)!r}, '--model', {str(tiny_model_dir)!r}, '--format', 'jsonl', "
            f"'--output', {str(out)!r}])\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\nsys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], env=os.environ.copy(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(ClaimDetector.from_pretrained(
        tiny_model_dir, runtime="onnx").score(DRAFT))
