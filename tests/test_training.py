import json

import pytest
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


def test_overfit_a_tiny_model_then_save_and_reload(tiny_base, tmp_path):
    from claimsift.training.train import train

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
    reloaded = ClaimDetector.from_pretrained(tmp_path / "model", device="cpu").classify(texts)
    for a, b in zip(got, reloaded, strict=True):
        assert a.label == b.label and abs(a.confidence - b.confidence) < 1e-6
    card = (tmp_path / "model" / "README.md").read_text()
    assert "sha256" in card and "Wikinews" in card and metrics["calibration"]["temperature"] > 0


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
