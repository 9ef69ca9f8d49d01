"""A LoRA adapter extracted from a full fine-tune: the truncated SVD of each linear layer's change.

A full fine-tune of MPNet-base is 438 MB of weights, too large to ship. The change it makes to
each linear layer is close to low rank, so its top ``rank`` singular directions, stored as a
peft LoRA adapter on the unchanged base package, keep what it learned in a few MB. Biases,
layer norms and embeddings keep the base's values; on the accurate model that cost nothing
measurable (``eval/results/comparison.md`` and the model card give the figures).

``claimsift lowrank --model runs/accurate/full --rank 32 --out model/weights/accurate`` does it
from the command line.

>>> full = ClaimDetector.from_pretrained("runs/accurate/full")   # doctest: +SKIP
>>> small = lora_from_full(full, rank=32)                         # doctest: +SKIP
>>> small.save_pretrained("model/weights/accurate")               # doctest: +SKIP
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line builds its parser from this module without importing torch
    import torch
    from claimsift.model.detector import ClaimDetector


def lora_from_full(full: ClaimDetector, *, rank: int, dtype: torch.dtype | None = None) -> ClaimDetector:
    """A LoRA detector on ``full``'s base whose adapter approximates ``full``'s encoder at ``rank``.

    The heads and the calibration temperature are copied. ``dtype`` is the adapter's storage type
    (default fp16, half the files; it is cast back to the base's type when the adapter is merged).
    """
    import torch
    from claimsift.model.detector import ClaimDetector
    from peft.tuners.lora import LoraLayer

    if full.config.adapter != "full":
        raise ValueError(f"lora_from_full needs a fully fine-tuned model, got adapter={full.config.adapter!r}")
    if rank <= 0:
        raise ValueError(f"rank must be positive, got {rank}")
    dtype = torch.float16 if dtype is None else dtype
    cfg = full.config
    det = ClaimDetector.new(cfg.base, device="cpu", context=cfg.context, max_length=cfg.max_length,
                            adapter="lora", lora_r=rank, lora_alpha=rank, lora_dropout=0.0,
                            lora_targets=cfg.lora_targets, dropout=cfg.dropout, temperature=cfg.temperature)
    tuned = full.net.encoder.state_dict()
    with torch.no_grad():
        for name, module in det.net.encoder.named_modules():
            if not isinstance(module, LoraLayer):
                continue
            base = module.get_base_layer().weight
            delta = tuned[name.removeprefix("base_model.model.") + ".weight"].to(base.device, torch.float32)
            u, s, vh = torch.linalg.svd(delta - base.float(), full_matrices=False)
            r = min(rank, s.numel())
            root = s[:r].sqrt()
            lora_a, lora_b = module.lora_A["default"], module.lora_B["default"]
            lora_a.weight.zero_()
            lora_b.weight.zero_()
            # lora_alpha == rank, so peft's scaling is 1 and B @ A is the rank-r approximation itself.
            lora_a.weight[:r] = root[:, None] * vh[:r]
            lora_b.weight[:, :r] = u[:, :r] * root
            lora_a.to(dtype)
            lora_b.to(dtype)
    det.net.load_state_dict(full.net.heads_state_dict(), strict=False)
    det.net.eval()
    return det


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The options of ``claimsift lowrank`` (on ``parser``, a CLI sub-parser, or a new one)."""
    p = parser or argparse.ArgumentParser(prog="claimsift lowrank", description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="a fully fine-tuned model folder (adapter: full)")
    p.add_argument("--rank", type=int, default=32, help="LoRA rank of the extracted adapter (default: 32)")
    p.add_argument("--out", type=Path, required=True, help="folder for the LoRA model")
    p.add_argument("--corpus", default="data/corpus/corpus.jsonl", help="corpus whose dev split recalibrates")
    p.add_argument("--wikinews", default="../shared/wikinews/annotated.jsonl",
                   help="Wikinews annotations whose dev split recalibrates too (skipped when absent)")
    p.add_argument("--no-calibrate", action="store_true", help="keep the source model's temperature")
    p.add_argument("--refit-tags", action="store_true",
                   help="refit the attribution-tag head on the extracted encoder's token states (train splits)")
    p.add_argument("--no-tune-role-score", action="store_true",
                   help="keep every decoded role (min_role_score 0) instead of choosing the threshold on dev")
    return p


def recalibrate(det: ClaimDetector, records: list[dict]) -> dict:
    """Refit ``det``'s temperature on annotated ``records`` (the dev splits); returns the figures.

    The extracted adapter moves the logits a little, so the source model's temperature no longer
    fits exactly. ``det`` reports probabilities already divided by its temperature ``T``; their logs
    are those logits up to a per-row constant, so scaling them by ``1/t`` is temperature ``T * t``.
    """
    import numpy as np
    from claimsift.model.labels import LABELS
    from claimsift.training.train import expected_calibration_error, fit_temperature

    probs = np.array([p["scores"] for p in det.predict_records(records)], dtype=np.float64)
    labels = np.array([LABELS.index(r["label"]) for r in records])
    logp = np.log(np.clip(probs, 1e-12, 1.0))
    t = fit_temperature(logp, labels)
    after = np.exp(logp / t)
    after /= after.sum(1, keepdims=True)
    before_t = det.config.temperature
    det.config = replace(det.config, temperature=before_t * t)
    return {"n": len(records), "temperature_before": before_t, "temperature": det.config.temperature,
            "ece_before": expected_calibration_error(probs, labels),
            "ece_after": expected_calibration_error(after, labels)}


def run(args) -> Path:
    """Extract, save with a model card that names the source model, and return the folder."""
    from claimsift.data.corpus import load_records, load_wikinews
    from claimsift.model.detector import ClaimDetector

    full = ClaimDetector.from_pretrained(args.model, device="cpu", runtime="torch", precision="fp32")
    det = lora_from_full(full, rank=args.rank)
    tags = ""
    if args.refit_tags:
        from claimsift.training.heads import refit_tag_head

        train = load_records("train", args.corpus)
        if Path(args.wikinews).exists():
            train += [r for r in load_wikinews(args.wikinews) if r["split"] == "wikinews_train"]
        fit = refit_tag_head(det, train)
        tags = (f"The attribution-tag head was refitted on the extracted encoder's frozen token states of "
                f"{fit['tokens']} training tokens (logistic regression; token accuracy "
                f"{fit['accuracy_before']:.3f} before, {fit['accuracy_after']:.3f} after). ")
    calibration = "Calibration: the source model's temperature, unchanged."
    dev = load_records("dev", args.corpus)
    if Path(args.wikinews).exists():
        dev += [r for r in load_wikinews(args.wikinews) if r["split"] == "wikinews_dev"]
    if not args.no_calibrate:
        cal = recalibrate(det, [r for r in dev if r.get("label")])
        calibration = (f"Calibration: temperature refitted on {cal['n']} dev sentences, "
                       f"{cal['temperature_before']:.3f} -> {cal['temperature']:.3f}; the extracted model's dev "
                       f"ECE {cal['ece_before']:.3f} before, {cal['ece_after']:.3f} after.")
    roles = "Roles: every decoded role kept (min_role_score 0). "
    if not args.no_tune_role_score:
        # the tag head is the source's or a refitted one, and this encoder is an approximation: choose again
        from claimsift.eval.role_threshold import describe, tune

        roles = f"Roles: {describe(tune(det, dev))}. "
    source = Path(args.model) / "README.md"
    card = (
        f"# claimsift model: rank-{args.rank} LoRA extracted from a full fine-tune\n\n"
        f"The adapter is the truncated SVD (rank {args.rank}) of each linear layer's change in the fully "
        f"fine-tuned model `{args.model}` (`claimsift lowrank`); the heads are copied. {tags}{calibration} {roles}"
        "Its data, config and training time are those of the source model, whose card follows; the figures "
        "there are the source model's. The extracted model's own are in `eval/results/comparison.md` "
        "(`python -m claimsift.eval.make_results`).\n\n"
        + "".join("#" + line if line.startswith("#") else line  # its headings one level down
                  for line in (source.read_text(encoding="utf-8") if source.exists() else "").splitlines(True))
    )
    return det.save_pretrained(args.out, card=card)
