import json

import pytest
import torch
from claimsift.data.samples import write_jsonl
from claimsift.training.config import TrainConfig

from claimsift import ClaimDetector

SENTENCES = [
    ("Share your thoughts in the comments below!", "no_claim", None, None),
    ("The council approved the budget on Tuesday.", "reported_fact", None, None),
    ("Mayor Ruth Ong said the bridge would reopen.", "attributed_quote", "Ruth Ong", "said"),
    ("The vote could mark a turning point.", "speculation", None, None),
    ("Economists warn that rents will rise.", "unverifiable_expert_claim", "Economists", "warn"),
    ("Subscribe to our newsletter today!", "no_claim", None, None),
    ("Unemployment fell to 4.1% in March.", "reported_fact", None, None),
    ("Analysts believe the deal may collapse.", "unverifiable_expert_claim", "Analysts", "believe"),
]


def _corpus(path):
    recs = []
    for split in ("train", "dev"):
        for i, (text, label, speaker, cue) in enumerate(SENTENCES):
            spans = {"speaker": [text.index(speaker), text.index(speaker) + len(speaker)] if speaker else None,
                     "role": None, "cue": [text.index(cue), text.index(cue) + len(cue)] if cue else None}
            recs.append({"doc": f"{split}-doc", "i": i, "text": text, "label": label, "speaker": speaker,
                         "role": None, "cue": cue, "named": (speaker == "Ruth Ong") if speaker else None,
                         "spans": spans, "split": split})
    write_jsonl(recs, path)


def test_overfit_a_tiny_model_then_save_and_reload(tiny_base, tmp_path, monkeypatch):
    from claimsift.eval import role_threshold
    from claimsift.training.train import train

    seen, real = [], role_threshold.choose

    def choose(det, records):  # the real choice, on the dev records; 0.5 returned so the saved value shows it
        seen.append({r["split"] for r in records})
        real(det, records)
        return 0.5, {0.0: {"exact": {"f1": 0.1}, "token": {"f1": 0.3}},
                     0.5: {"exact": {"f1": 0.2}, "token": {"f1": 0.4}}}

    monkeypatch.setattr(role_threshold, "choose", choose)
    _corpus(tmp_path / "corpus.jsonl")
    cfg = TrainConfig(base=str(tiny_base), adapter="full", corpus=str(tmp_path / "corpus.jsonl"), wikinews=None,
                      epochs=40, lr=3e-3, batch_size=8, warmup_ratio=0.0, early_stopping_patience=100,
                      output_dir=str(tmp_path / "runs"), model_dir=str(tmp_path / "model"), context="prev")
    det, metrics = train(cfg, eval_splits={"dev": []})
    losses = [h["loss"] for h in json.loads(next((tmp_path / "runs").glob("checkpoint-*/trainer_state.json"))
                                            .read_text())["log_history"] if "loss" in h]
    assert not losses or losses[-1] < losses[0]
    texts = [s for s, *_ in SENTENCES]
    got = det.classify(texts)
    assert sum(r.label == lab for r, (_, lab, _, _) in zip(got, SENTENCES, strict=True)) >= 7
    # the same device as the trained model: a GPU runs bf16, so its probabilities differ from a CPU's
    reloaded = ClaimDetector.from_pretrained(tmp_path / "model", device=str(det.device)).classify(texts)
    for a, b in zip(got, reloaded, strict=True):
        assert a.label == b.label and abs(a.confidence - b.confidence) < 1e-6
    card = (tmp_path / "model" / "README.md").read_text()
    assert "sha256" in card and "Wikinews" in card and metrics["calibration"]["temperature"] > 0
    # min_role_score is chosen on the dev records after training and saved with the model
    assert seen == [{"dev"}] and metrics["role_threshold"]["chosen"] == 0.5
    assert ClaimDetector.from_pretrained(tmp_path / "model", device="cpu").config.min_role_score == 0.5
    assert "roles scored under 0.5 are left out" in card and "0.5: 0.300" in card


def test_head_lr_trains_the_heads_at_their_own_rate(tiny_base, tmp_path):
    import torch
    from claimsift.training.train import train
    from transformers import set_seed

    _corpus(tmp_path / "corpus.jsonl")
    cfg = TrainConfig(base=str(tiny_base), adapter="full", corpus=str(tmp_path / "corpus.jsonl"), wikinews=None,
                      epochs=3, lr=1e-9, head_lr=1e-2, batch_size=8, warmup_ratio=0.0, context="none",
                      calibrate=False, output_dir=str(tmp_path / "runs"), model_dir=str(tmp_path / "model"))
    set_seed(cfg.seed)  # train() starts the same way, so this is the model it starts from
    start = ClaimDetector.new(cfg.base, adapter="full", context="none", max_length=cfg.max_length, device="cpu")
    det, _ = train(cfg, eval_splits={"dev": []})
    before, after = start.net.state_dict(), det.net.cpu().state_dict()
    moved = {k: (after[k] - before[k]).abs().max().item() for k in before}
    assert max(v for k, v in moved.items() if k.startswith("encoder.")) < 1e-5
    assert moved["tag_head.weight"] > 1e-3 and moved["label_head.weight"] > 1e-3
    with pytest.raises(ValueError, match="head_lr must be positive"):
        TrainConfig(head_lr=0.0)
    assert torch.isfinite(after["tag_head.weight"]).all()


def test_config_validates_and_overrides():
    cfg = TrainConfig.from_json("training/configs/default.json")
    assert cfg.base == "minilm" and cfg.adapter == "lora"
    assert cfg.with_overrides(["--epochs", "1", "--context", "none"]).context == "none"
    with pytest.raises(ValueError, match="context must be"):
        TrainConfig(context="sideways")
    with pytest.raises(ValueError, match="unknown config keys"):
        TrainConfig.from_dict({"learning_rate": 1})
    with pytest.raises(ValueError, match="expected float"):
        cfg.with_overrides(["--lr", "fast"])
    extra = cfg.with_overrides(["--extra-train", "a.jsonl:0.5,b.jsonl"]).extra_train
    assert [(e.path, e.weight) for e in extra] == [("a.jsonl", 0.5), ("b.jsonl", 1.0)]


def test_distill_scores_unlabelled_articles_and_gold_training_records(tiny_model_dir, tmp_path):
    from claimsift.training import distill

    _corpus(tmp_path / "corpus.jsonl")
    (tmp_path / "cfg.json").write_text(json.dumps({"corpus": str(tmp_path / "corpus.jsonl"), "wikinews": None}))
    (tmp_path / "raw.jsonl").write_text("\n".join(json.dumps(a) for a in [
        {"id": "gold-art", "text": "Already annotated. Must be skipped."},
        {"id": "new-art", "text": "The mayor said the road will close. Experts warn of delays. Read more. Extra."},
    ]))
    write_jsonl([{"doc": "gold-art", "i": 0, "text": "Already annotated.", "label": "reported_fact"}],
                tmp_path / "gold.jsonl")
    args = distill.build_parser().parse_args([
        "--teacher", str(tiny_model_dir), "--raw", str(tmp_path / "raw.jsonl"), "--gold", str(tmp_path / "gold.jsonl"),
        "--config", str(tmp_path / "cfg.json"), "--per-doc", "3", "--out", str(tmp_path / "out"), "--device", "cpu"])
    counts = distill.run(args)
    unlabelled = [json.loads(x) for x in (tmp_path / "out" / "unlabelled.jsonl").read_text().splitlines()]
    soft = [json.loads(x) for x in (tmp_path / "out" / "soft.jsonl").read_text().splitlines()]
    assert [(r["doc"], r["i"], r["label"]) for r in unlabelled] == [("new-art", k, None) for k in range(3)]
    assert counts == {"unlabelled": 3, "unlabelled_docs": 1, "gold": len(SENTENCES), "teacher": str(tiny_model_dir)}
    assert {(r["doc"], r["i"]) for r in soft} == {("new-art", k) for k in range(3)} | {
        ("train-doc", k) for k in range(len(SENTENCES))}
    assert all(abs(sum(r["scores"]) - 1) < 1e-4 for r in soft)
    # the student's model card names the teacher and its weights' hashes
    from claimsift.training.card import _teacher

    named = _teacher(str(tmp_path / "out" / "soft.jsonl"))
    assert str(tiny_model_dir) in named and "heads.safetensors" in named
    assert "not recorded" in _teacher(str(tmp_path / "elsewhere" / "soft.jsonl"))


def test_student_learns_a_teachers_soft_labels_on_unlabelled_text(tiny_base, tmp_path):
    from claimsift.model.labels import LABELS
    from claimsift.training.train import train

    _corpus(tmp_path / "corpus.jsonl")
    # Sentences with no gold label: only the teacher's probabilities can teach the student their label.
    unlabelled = ["Tickets go on sale at noon.", "Call the helpline for advice.", "Parking is free on Sundays."]
    teach = ["speculation", "attributed_quote", "speculation"]  # labels no gold sentence would suggest
    write_jsonl([{"doc": "raw", "i": k, "text": t, "label": None} for k, t in enumerate(unlabelled)],
                tmp_path / "raw.jsonl")
    # ... and a stale teacher row on a gold sentence (label 0 is reported_fact, gold says no_claim): gold wins
    stale = {"doc": "train-doc", "i": next(i for i, s in enumerate(SENTENCES) if s[1] == "no_claim"),
             "scores": [1.0, 0.0, 0.0, 0.0, 0.0]}
    write_jsonl([{"doc": "raw", "i": k, "scores": [float(lab == t) for lab in LABELS]} for k, t in enumerate(teach)]
                + [stale], tmp_path / "soft.jsonl")
    common = dict(base=str(tiny_base), adapter="full", corpus=str(tmp_path / "corpus.jsonl"), wikinews=None,
                  epochs=40, lr=3e-3, batch_size=8, warmup_ratio=0.0, early_stopping_patience=100, context="none",
                  output_dir=str(tmp_path / "runs"), model_dir=str(tmp_path / "model"), calibrate=False,
                  extra_train=({"path": str(tmp_path / "raw.jsonl"), "weight": 1.0},),
                  soft_labels=str(tmp_path / "soft.jsonl"), soft_weight=1.0)
    cfg = TrainConfig.from_dict(common)
    det, metrics = train(cfg, eval_splits={"dev": []})
    assert [r.label for r in det.classify(unlabelled)] == teach
    assert metrics["soft_labels_dropped"] == 1
    assert "1 rows dropped where the teacher's top label disagrees" in (tmp_path / "model" / "README.md").read_text()
    blind, _ = train(cfg.with_overrides(["--soft_weight", "0"]), eval_splits={"dev": []})
    assert [r.label for r in blind.classify(unlabelled)] != teach


def test_torchrun_trains_data_parallel_and_writes_one_model(tiny_base, tmp_path):
    """The multi-GPU route, here with two CPU processes: the same command, no code change."""
    import subprocess
    import sys

    _corpus(tmp_path / "corpus.jsonl")
    cfg = {"base": str(tiny_base), "adapter": "full", "corpus": str(tmp_path / "corpus.jsonl"), "wikinews": None,
           "epochs": 2, "lr": 3e-3, "batch_size": 4, "warmup_ratio": 0.0, "context": "prev",
           "output_dir": str(tmp_path / "runs"), "model_dir": str(tmp_path / "model")}
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                          "-m", "claimsift.cli", "train", "--config", str(tmp_path / "cfg.json")],
                         capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr[-3000:]
    state = json.loads(max((tmp_path / "runs").glob("checkpoint-*/trainer_state.json"),
                           key=lambda p: int(p.parent.name.split("-")[1])).read_text())
    # 8 sentences, 4 per process, 2 processes: one step per epoch (one process alone would take two)
    assert state["global_step"] == 2
    det = ClaimDetector.from_pretrained(tmp_path / "model", device="cpu")
    assert len(det.classify([s for s, *_ in SENTENCES])) == len(SENTENCES)


def test_cpu_training_draws_dropout_masks_from_bits_unless_told_native(tiny_base, tmp_path):
    from claimsift.training.dropout import MaskDropout
    from claimsift.training.train import train

    _corpus(tmp_path / "corpus.jsonl")
    cfg = TrainConfig(base=str(tiny_base), adapter="lora", lora_r=2, lora_dropout=0.1,
                      corpus=str(tmp_path / "corpus.jsonl"), wikinews=None, epochs=1, batch_size=8, context="none",
                      calibrate=False,
                      output_dir=str(tmp_path / "runs"), model_dir=str(tmp_path / "model"))
    det, _ = train(cfg, eval_splits={"dev": []})
    swapped = [m for m in det.net.modules() if isinstance(m, MaskDropout)]
    assert any("lora_dropout" in name for name, m in det.net.named_modules() if isinstance(m, MaskDropout))
    assert len(swapped) > 0 and not any(type(m) is torch.nn.Dropout for m in det.net.modules())
    native, _ = train(cfg.with_overrides(["--dropout_masks", "native"]), eval_splits={"dev": []})
    assert not any(isinstance(m, MaskDropout) for m in native.net.modules())
    with pytest.raises(ValueError, match="dropout_masks"):
        TrainConfig(dropout_masks="bernoulli")


def test_training_speed_bench_runs_each_variant_and_writes_a_table(tiny_base, tmp_path):
    from claimsift.eval.bench_train import VARIANTS, main

    assert not any("," in name for name in VARIANTS)  # --variants is comma-separated, and so is its default

    _corpus(tmp_path / "corpus.jsonl")
    cfg = {"base": str(tiny_base), "adapter": "lora", "lora_r": 2, "corpus": str(tmp_path / "corpus.jsonl"),
           "wikinews": None, "batch_size": 4, "context": "none", "calibrate": False}
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    out = tmp_path / "speed.md"
    assert main(["--config", str(tmp_path / "cfg.json"), "--sentences", "6", "--out", str(out),
                 "--variants", "native dropout masks,16-bit dropout masks"]) == 0
    rows = [line for line in out.read_text().splitlines() if line.startswith("| ") and "dropout masks" in line]
    assert [r.split(" | ")[0] for r in rows] == ["| native dropout masks", "| 16-bit dropout masks"]
    assert rows[0].split(" | ")[1] in ("fp32", "bf16") and rows[0].split(" | ")[3] == "1.00x"
    with pytest.raises(SystemExit):
        main(["--variants", "no such variant"])


def test_window_layout_trains_and_scores_every_member(tiny_base, tmp_path):
    """Rows of several sentences: each member's label, tags, named flag and teacher scores count."""
    from claimsift.training.dataset import Collator, build_features
    from claimsift.training.train import train

    _corpus(tmp_path / "corpus.jsonl")
    recs = [json.loads(line) for line in (tmp_path / "corpus.jsonl").read_text().splitlines()]
    det = ClaimDetector.new(str(tiny_base), device="cpu", adapter="full", context="window", max_length=80)
    train_recs = [r for r in recs if r["split"] == "train"]
    soft = {("train-doc", 3): [0.0, 0.0, 1.0, 0.0, 0.0]}
    # 24-token edges leave 30 tokens a row for members: several rows, several sentences each
    ds = build_features(train_recs, det.tokenizer, context="window", max_length=80, soft=soft, window_context=24)
    assert 1 < len(ds) < len(train_recs)  # several sentences per row
    assert sum(len(row["labels"]) for row in ds) == len(train_recs)
    batch = Collator(0)([ds[k] for k in range(len(ds))])
    rows, most = batch["labels"].shape
    assert batch["sentence_mask"].shape[:2] == (rows, most) and batch["soft"].shape == (rows, most, 5)
    assert (batch["labels"] == -100).sum() == rows * most - len(train_recs)  # padding members carry no label
    assert batch["soft"][..., 0].isnan().logical_not().sum() == 1
    assert (batch["tags"] == 1).sum() == 3  # B-speaker: "Ruth", "Economists", "Analysts"
    cfg = TrainConfig(base=str(tiny_base), adapter="full", corpus=str(tmp_path / "corpus.jsonl"), wikinews=None,
                      epochs=60, lr=3e-3, batch_size=2, warmup_ratio=0.0, early_stopping_patience=100,
                      output_dir=str(tmp_path / "runs"), model_dir=str(tmp_path / "model"), context="window",
                      max_length=80, window_context=5, tune_role_score=False)
    det, metrics = train(cfg, eval_splits={"dev": [r for r in recs if r["split"] == "dev"]})
    assert "role_threshold" not in metrics and det.config.min_role_score == 0.0  # not tuned when told not to
    assert metrics["eval"]["dev"]["accuracy"] >= 7 / 8
    assert metrics["train_sentences"] == metrics["dev_sentences"] == len(SENTENCES)  # sentences, not rows
    saved = ClaimDetector.from_pretrained(tmp_path / "model", device="cpu").config
    assert (saved.context, saved.window_context) == ("window", 5)  # it scores with the edges it trained on
