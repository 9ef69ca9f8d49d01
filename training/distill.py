"""Distillation data: a teacher model's probabilities on gold and unlabelled real text.

The accurate (MPNet) model knows more about who speaks in what capacity than the 22M-parameter
default. ``claimsift distill`` lets it label text, and the student then trains on those
probabilities beside the gold labels (``soft_labels`` and ``soft_weight`` in the training config).
Two files come out:

- ``unlabelled.jsonl``: sentences of real articles that have no gold labels (label null), in
  document order, for ``--extra-train``. Only a contiguous prefix of each article is kept, so
  every kept sentence has its true neighbours as context.
- ``soft.jsonl``: one ``{"doc", "i", "scores"}`` row per sentence of those articles and of the
  gold training records, in ``LABELS`` order.

Articles already in the gold Wikinews set (train *and* dev) are left out, so the real-news dev
split stays unseen by the student.

>>> rows = [{"id": "a", "text": "One. Two. Three."}, {"id": "b", "text": "Done."}]
>>> [(r["doc"], r["i"], r["text"]) for r in unlabelled_records(rows, exclude={"b"}, per_doc=2)]
[('a', 0, 'One.'), ('a', 1, 'Two.')]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path

from claimsift.data.samples import write_jsonl
from claimsift.model.jsonl import json_objects
from claimsift.model.segment import segment

TEACHER_RECORD = "teacher.json"  # beside soft.jsonl; the student's model card reads it


def unlabelled_records(articles: Iterable[dict], *, exclude: set[str], per_doc: int | None = None,
                       limit: int | None = None) -> list[dict]:
    """Segment ``{"id", "text"}`` articles into null-label sample records, skipping ``exclude`` ids."""
    out: list[dict] = []
    for art in articles:
        if art["id"] in exclude:
            continue
        spans = segment(art["text"])[:per_doc]
        for i, span in enumerate(spans):
            if limit is not None and len(out) >= limit:
                return out
            out.append({"doc": art["id"], "i": i, "text": span.text, "label": None, "speaker": None,
                        "role": None, "cue": None, "named": None})
    return out


def teacher_scores(teacher, records: list[dict]) -> list[dict]:
    """The teacher's calibrated label probabilities for each record, keyed by (doc, i)."""
    preds = teacher.predict_records(records)
    return [{"doc": r["doc"], "i": r["i"], "scores": [round(s, 6) for s in p["scores"]]}
            for r, p in zip(records, preds, strict=True)]


def gold_training_records(config_path: str | Path) -> list[dict]:
    """The gold training records (corpus train + Wikinews train + extras) of a training config."""
    from claimsift.training.config import TrainConfig
    from claimsift.training.train import load_training_data

    cfg = TrainConfig.from_json(config_path)
    return [r for recs, _, _ in load_training_data(cfg)["train"] for r in recs if r["label"] is not None]


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The options of ``claimsift distill`` (on ``parser``, a CLI sub-parser, or a new one)."""
    p = parser or argparse.ArgumentParser(prog="claimsift distill", description=__doc__.splitlines()[0])
    p.add_argument("--teacher", default="accurate", help="teacher model: accurate, default or a folder")
    p.add_argument("--raw", type=Path, default=Path("../shared/wikinews/raw.jsonl"),
                   help="JSONL of unlabelled articles ({id, text}), e.g. shared/wikinews/raw.jsonl")
    p.add_argument("--gold", type=Path, default=Path("../shared/wikinews/annotated.jsonl"),
                   help="gold Wikinews annotations: their articles are excluded from the unlabelled set")
    p.add_argument("--config", type=Path, default=Path("training/configs/default.json"),
                   help="the student's training config; its gold training records get teacher scores too")
    p.add_argument("--per-doc", type=int, default=60, help="first N sentences of each article")
    p.add_argument("--limit", type=int, default=None, help="at most N unlabelled sentences in all")
    p.add_argument("--out", type=Path, default=Path("runs/distill"))
    p.add_argument("--batch-size", type=int, default=None, help="default: 64 on CPU, 512 on GPU")
    p.add_argument("--device", default=None)
    p.add_argument("--runtime", choices=("torch", "onnx"), default="torch",
                   help="onnx: run the teacher in ONNX Runtime (CPU; same probabilities, faster)")
    return p


def run(args) -> dict:
    """Write ``unlabelled.jsonl`` and ``soft.jsonl`` under ``args.out``; returns counts."""
    from claimsift.data.samples import read_samples
    from claimsift.model.detector import ClaimDetector

    gold_docs = {r["doc"] for r in read_samples(args.gold)} if args.gold and args.gold.exists() else set()
    if not args.raw.exists():
        raise FileNotFoundError(f"{args.raw}: no such file; pass --raw with a JSONL of {{id, text}} articles, "
                                "such as shared/wikinews/raw.jsonl")
    lines = args.raw.read_text(encoding="utf-8").splitlines()
    articles = [obj for _, obj in json_objects(lines, str(args.raw), ValueError, "; expected {id, text} objects")]
    unlabelled = unlabelled_records(articles, exclude=gold_docs, per_doc=args.per_doc, limit=args.limit)
    gold = gold_training_records(args.config)
    teacher = ClaimDetector.from_pretrained(args.teacher, device=args.device, batch_size=args.batch_size,
                                            runtime=args.runtime)
    soft = teacher_scores(teacher, unlabelled) + teacher_scores(teacher, gold)
    write_jsonl(unlabelled, args.out / "unlabelled.jsonl")
    write_jsonl(soft, args.out / "soft.jsonl")
    # the student's model card names its teacher from this record
    (args.out / TEACHER_RECORD).write_text(json.dumps({
        "teacher": str(args.teacher), "base": teacher.config.base, "files": teacher.config.files,
    }, indent=2) + "\n", encoding="utf-8")
    return {"unlabelled": len(unlabelled), "unlabelled_docs": len({r["doc"] for r in unlabelled}),
            "gold": len(gold), "teacher": args.teacher}
