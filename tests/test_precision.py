"""bf16 where the hardware has it: how "auto" resolves, and the bf16 paths of inference and training."""

import json
import os

import pytest
import torch
from claimsift.model import precision as prec
from claimsift.model import runtime as rt
from claimsift.model.labels import LABELS
from claimsift.training.config import TrainConfig

from claimsift import ClaimDetector

DRAFT = ('Dr. Anya Petrova, a geopolitical analyst at the Institute for Strategic Studies, notes, '
         '"The Miami talks are a gamble."\n\nShare your thoughts below!\nPrices rose 3% on Monday.')


def test_precision_names_resolve_and_the_environment_pins_auto(monkeypatch):
    monkeypatch.delenv(prec.ENV, raising=False)
    assert prec.resolve_precision("fp32", "cpu") is None
    assert prec.resolve_precision("bf16", "cpu") is torch.bfloat16
    monkeypatch.setattr(prec, "native_bf16", lambda device: True)
    assert prec.resolve_precision("auto", "cpu") is torch.bfloat16
    monkeypatch.setenv(prec.ENV, "fp32")
    assert prec.resolve_precision("auto", "cpu") is None
    assert prec.resolve_precision("bf16", "cpu") is torch.bfloat16  # a name asked for wins over the pin
    monkeypatch.setenv(prec.ENV, "half")
    with pytest.raises(ValueError, match="CLAIMSIFT_PRECISION"):
        prec.resolve_precision("auto", "cpu")
    with pytest.raises(ValueError, match="precision must be one of"):
        prec.resolve_precision("fp16", "cpu")


def test_cpu_lists_bf16_reads_proc_cpuinfo_without_torch(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f amx_tile amx_bf16\n\n"
                    "processor\t: 1\nflags\t\t: fpu sse2 avx2 avx512f amx_tile amx_bf16\n")
    assert prec.cpu_lists_bf16(info) is True
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16\n")
    assert prec.cpu_lists_bf16(info) is True
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f amx_tile avx512_vnni\n")
    assert prec.cpu_lists_bf16(info) is False  # AMX tiles without the bf16 unit, or VNNI alone, are not enough
    assert prec.cpu_lists_bf16(tmp_path / "absent") is False


def test_native_bf16_reads_the_cpu_flags_and_is_false_without_them(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False, raising=False)
    assert prec.native_bf16("cpu") is False
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True)
    assert prec.native_bf16("cpu") is True
    monkeypatch.delattr(torch.cpu, "_is_amx_tile_supported")
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported")
    assert prec.native_bf16("cpu") is False  # a torch without the private checks: fp32
    assert prec.native_bf16("meta") is False


def test_bf16_inference_keeps_the_labels_and_refuses_to_save(tiny_model_dir, tmp_path):
    fp32 = ClaimDetector.from_pretrained(tiny_model_dir, device="cpu", precision="fp32", runtime="torch")
    bf16 = ClaimDetector.from_pretrained(tiny_model_dir, device="cpu", precision="bf16")
    assert fp32.dtype is None and bf16.dtype is torch.bfloat16
    assert next(bf16.net.encoder.parameters()).dtype is torch.bfloat16
    assert bf16.net.label_head.weight.dtype is torch.float32  # the heads stay fp32
    a, b = fp32.score(DRAFT), bf16.score(DRAFT)
    assert all(abs(sum(r.scores.values()) - 1) < 1e-4 for r in b)
    assert max(abs(x.scores[k] - y.scores[k]) for x, y in zip(a, b, strict=True) for k in LABELS) < 0.05
    with pytest.raises(TypeError, match="precision='fp32'"):
        bf16.save_pretrained(tmp_path / "copy")
    with pytest.raises(ValueError, match="bf16"):
        ClaimDetector.from_pretrained(tiny_model_dir, runtime="onnx", precision="bf16")


def test_a_bf16_cpu_load_caps_onednns_cache_unless_the_user_set_it(tiny_model_dir, monkeypatch):
    """The cap holds the ~16 shapes rounded widths leave (eval/results/speed_xeon_cache.md); a user's wins."""
    var = "ONEDNN_PRIMITIVE_CACHE_CAPACITY"
    monkeypatch.delenv(var, raising=False)
    ClaimDetector.from_pretrained(tiny_model_dir, device="cpu", precision="fp32", runtime="torch")
    assert var not in os.environ  # fp32 runs on MKL's prebuilt kernels: nothing to cap
    ClaimDetector.from_pretrained(tiny_model_dir, device="cpu", precision="bf16")
    assert os.environ[var] == "32"
    monkeypatch.setenv(var, "4")
    ClaimDetector.from_pretrained(tiny_model_dir, device="cpu", precision="bf16")
    assert os.environ[var] == "4"


def test_auto_runtime_is_torch_where_bf16_runs_and_onnx_elsewhere(tiny_model_dir, monkeypatch):
    monkeypatch.delenv(prec.ENV, raising=False)
    monkeypatch.setattr(prec, "native_bf16", lambda device: True)
    monkeypatch.setattr(prec, "cpu_lists_bf16", lambda: True)
    # the library's default, "auto", on a CPU with native bf16 is PyTorch in bf16: it labels fastest there
    lib = ClaimDetector.from_pretrained(tiny_model_dir, device="cpu")
    assert lib.dtype is torch.bfloat16 and next(lib.net.encoder.parameters()).dtype is torch.bfloat16
    for kw in ({"precision": "fp32"}, {"quantize": True}):  # fp32 and int8 are faster in ONNX Runtime
        assert isinstance(ClaimDetector.from_pretrained(tiny_model_dir, device="cpu", **kw).net, rt.OnnxNet), kw
    monkeypatch.setenv(prec.ENV, "fp32")  # the pin is a request too
    assert isinstance(ClaimDetector.from_pretrained(tiny_model_dir, device="cpu").net, rt.OnnxNet)
    monkeypatch.delenv(prec.ENV)
    monkeypatch.setattr(prec, "native_bf16", lambda device: False)
    monkeypatch.setattr(prec, "cpu_lists_bf16", lambda: False)
    # where bf16 is emulated (most laptops) the default is ONNX Runtime, unless bf16 is asked for by name
    assert isinstance(ClaimDetector.from_pretrained(tiny_model_dir, device="cpu").net, rt.OnnxNet)
    det = ClaimDetector.from_pretrained(tiny_model_dir, device="cpu", precision="bf16")
    assert not isinstance(det.net, rt.OnnxNet) and det.dtype is torch.bfloat16
    monkeypatch.setenv(prec.ENV, "bf16")
    pinned = ClaimDetector.from_pretrained(tiny_model_dir, device="cpu")
    assert not isinstance(pinned.net, rt.OnnxNet) and pinned.dtype is torch.bfloat16
    monkeypatch.delenv(prec.ENV)
    torch_asked = ClaimDetector.from_pretrained(tiny_model_dir, device="cpu", runtime="torch")
    assert not isinstance(torch_asked.net, rt.OnnxNet) and torch_asked.dtype is None  # fp32: nothing changes it


def test_training_in_bf16_records_it_and_saves_fp32_weights(tiny_base, tmp_path):
    from claimsift.data.samples import write_jsonl
    from claimsift.training.train import train

    rows = [("Share your thoughts below!", "no_claim"), ("The council approved the budget.", "reported_fact"),
            ("The vote could mark a turning point.", "speculation")]
    write_jsonl([{"doc": f"{split}-d", "i": i, "text": t, "label": lab, "split": split}
                 for split in ("train", "dev") for i, (t, lab) in enumerate(rows)], tmp_path / "c.jsonl")
    cfg = TrainConfig(base=str(tiny_base), adapter="lora", lora_r=2, lora_dropout=0.0, corpus=str(tmp_path / "c.jsonl"),
                      wikinews=None, epochs=1, batch_size=4, context="none", precision="bf16",
                      output_dir=str(tmp_path / "runs"), model_dir=str(tmp_path / "model"))
    det, metrics = train(cfg, eval_splits={"dev": []})
    assert metrics["hardware"]["precision"] == "bf16"
    assert all(p.dtype is torch.float32 for p in det.net.parameters())
    saved = json.loads((tmp_path / "model" / "claimsift.json").read_text())
    assert saved["lora_dropout"] == 0.0
    with pytest.raises(ValueError, match="precision must be one of"):
        TrainConfig(precision="fp16")
    with pytest.raises(ValueError, match="lora_dropout"):
        TrainConfig(lora_dropout=1.0)


@pytest.mark.parametrize("context", ["both", "window"])
def test_widths_rounded_up_for_bf16_on_a_cpu_leave_the_scores_as_they_were(tiny_base, context, monkeypatch):
    """bf16 on a CPU pads each batch to a multiple of BF16_CPU_WIDTH_MULTIPLE (repeated shapes reuse
    oneDNN's kernels), never past max_length; the padding is masked, so in fp32 the scores are those of
    unpadded batches."""
    from claimsift.model import detector as det_mod

    assert ClaimDetector.new(str(tiny_base), device="cpu", precision="bf16").width_multiple == 16
    # sentences alone: the padding would be a large share of each short row, so none
    assert ClaimDetector.new(str(tiny_base), device="cpu", precision="bf16", context="none").width_multiple == 1
    det = ClaimDetector.new(str(tiny_base), device="cpu", adapter="full", context=context, max_length=72,
                            precision="fp32")
    assert det.width_multiple == 1
    docs = [[f"Line {k} of {d} has {'more words ' * ((k + d) % 5)}in it." for k in range(n)]
            for d, n in enumerate((9, 1, 14))]
    plain = det.classify_many(docs)
    widths = []
    run = det._run
    monkeypatch.setattr(det, "_run", lambda inputs: (widths.append(inputs["input_ids"].shape[1]), run(inputs))[1])
    det.width_multiple = 16
    padded = det.classify_many(docs)
    # rounded up to 16s, except where that would pass max_length (72 here, not a multiple of 16)
    assert widths and all(w % 16 == 0 or w == 72 for w in widths) and max(widths) <= 72
    assert any(w > det_mod.host.pack(det.host, det_mod.host.encode_group(det.host, docs)).lengths.min()
               for w in widths)
    for a, b in zip([r for res in plain for r in res], [r for res in padded for r in res], strict=True):
        assert a.label == b.label and max(abs(a.scores[k] - b.scores[k]) for k in LABELS) < 1e-5
        assert a.attribution == b.attribution
