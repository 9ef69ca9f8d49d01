"""Training-speed benchmark: the same capped training run under several config overrides, one process.

``python -m claimsift.eval.bench_train --config training/configs/distilled.json --sentences 960``
trains each variant (PyTorch's dropout masks against ``dropout_masks: bits``, training/dropout.py,
and LoRA dropout off, in the config's precision; then both masks in fp32) on the first
``--sentences`` training sentences of each source for one epoch, with the config's seed, and writes
seconds per variant, the precision it ran in, the ratio to the first, the training loss and the dev
scores of the run into ``eval/results/train_speed.md``. Variants run one after another in this process, on the
same data, so the ratios compare like with like; run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

VARIANTS = {
    "native dropout masks": ["--dropout_masks", "native"],
    "16-bit dropout masks": ["--dropout_masks", "bits"],
    "no LoRA dropout": ["--dropout_masks", "native", "--lora_dropout", "0"],
    "native dropout masks in fp32": ["--dropout_masks", "native", "--precision", "fp32"],
    "16-bit dropout masks in fp32": ["--dropout_masks", "bits", "--precision", "fp32"],
}


def run_variant(config: str, overrides: list[str], sentences: int, workdir: Path) -> dict:
    """Train one capped variant; returns its wall time, final training loss and dev macro-F1."""
    from claimsift.training.config import TrainConfig
    from claimsift.training.train import train

    cfg = TrainConfig.from_json(config).with_overrides([
        *overrides, "--max_train_sentences", str(sentences), "--epochs", "1", "--early_stopping_patience", "1",
        "--output_dir", str(workdir / "runs"), "--model_dir", str(workdir / "model"),
    ])
    started = time.perf_counter()
    _, metrics = train(cfg, eval_splits={})
    seconds = time.perf_counter() - started
    state = json.loads(next((workdir / "runs").glob("checkpoint-*/trainer_state.json")).read_text())
    losses = [h["loss"] for h in state["log_history"] if "loss" in h]
    evals = [h for h in state["log_history"] if "eval_selection_f1" in h]
    return {"seconds": seconds, "train_loss": losses[-1] if losses else None,
            "selection_f1": evals[-1]["eval_selection_f1"] if evals else None,
            "train_sentences": metrics["train_sentences"], "precision": metrics["hardware"]["precision"]}


def render(rows: dict[str, dict], *, config: str, sentences: int) -> str:
    import torch

    first = next(iter(rows.values()))["seconds"]
    lines = [
        "# Training speed",
        "",
        f"`python -m claimsift.eval.bench_train --config {config} --sentences {sentences}`: one epoch on the first "
        f"{sentences} sentences of each training source, the config's seed, each variant in turn in one process.",
        f"Machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, torch "
        f"{torch.__version__}, {platform.platform()}.",
        "",
        "| variant | precision | seconds | vs first | last training loss | dev selection F1 |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        loss = "" if r["train_loss"] is None else f"{r['train_loss']:.3f}"
        sel = "" if r["selection_f1"] is None else f"{r['selection_f1']:.3f}"
        ratio = f"{first / r['seconds']:.2f}x"
        lines.append(f"| {name} | {r['precision']} | {r['seconds']:.1f} | {ratio} | {loss} | {sel} |")
    lines += ["", "One epoch of a capped run says what a step costs, not what the full run scores: the dev "
              "column only shows nothing broke."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m claimsift.eval.bench_train", description=__doc__.splitlines()[0])
    p.add_argument("--config", default="training/configs/distilled.json")
    p.add_argument("--sentences", type=int, default=960, help="training sentences per source")
    p.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of: {', '.join(VARIANTS)}")
    p.add_argument("--out", type=Path, default=Path("eval/results/train_speed.md"))
    args = p.parse_args(argv)
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown:
        p.error(f"unknown variants {unknown}; known: {list(VARIANTS)}")
    rows = {}
    for name in names:
        with tempfile.TemporaryDirectory() as tmp:
            rows[name] = run_variant(args.config, VARIANTS[name], args.sentences, Path(tmp))
        print(f"{name}: {rows[name]['seconds']:.1f} s", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(rows, config=args.config, sentences=args.sentences), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
