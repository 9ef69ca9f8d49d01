"""Regenerate everything in ``eval/results/`` with one command.

``python -m claimsift.eval.make_results --models default --wikinews ../shared/wikinews/annotated.jsonl
--external ../shared/external`` writes:

- ``comparison.md`` / ``.json`` and confusion PNGs: every model and baseline on corpus dev, test and
  hard, and on the Wikinews dev split (baselines fitted on corpus train + wikinews_train, the data the
  model saw);
- ``<model>_<split>/report.md`` (+ JSON, confusion and reliability PNGs): the full report of each
  model on each split: confidence intervals, costly errors, calibration, attribution quality, and
  the worst errors (left out for Wikinews, whose text is not redistributed here);
- ``external.md``: each model and the lexicon baseline on the public external sets, seeded samples
  (whole documents in context where a set gives them). ``--external-only`` writes just this file.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from claimsift.data.corpus import load_records, load_wikinews
from claimsift.eval import RESULTS_DIR
from claimsift.eval.baselines import BASELINES
from claimsift.eval.compare import evaluate_grid, slug, write_comparison
from claimsift.eval.external import EXTERNAL_SETS, eval_external
from claimsift.eval.harness import evaluate, write_report
from claimsift.eval.predictors import load_predictor, predict
from claimsift.model.precision import precision_name


def _precisions(models: dict) -> str:
    """How each model ran, e.g. "bf16 (default, accurate)": results shift slightly with precision."""
    by: dict[str, list[str]] = {}
    for name, det in models.items():
        by.setdefault(precision_name(getattr(det, "dtype", None)), []).append(name)
    return "; ".join(f"{p} ({', '.join(names)})" for p, names in by.items()) or "-"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="default", help="comma-separated: default, accurate, model folders")
    p.add_argument("--wikinews", default="../shared/wikinews/annotated.jsonl")
    p.add_argument("--external", default=None, help="folder of shared/external (optional)")
    p.add_argument("--external-limit", type=int, default=1500)
    p.add_argument("--external-only", action="store_true", help="write external.md only (needs --external)")
    p.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    p.add_argument("--resamples", type=int, default=1000)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.external_only and not args.external:
        p.error("--external-only needs --external PATH")
    models = {name: load_predictor(name) for name in args.models.split(",") if name}
    if not args.external_only:
        _write_splits(args, models)
    if args.external:
        parts = ["# External sets", "",
                 f"Produced by `python -m claimsift.eval.make_results --external PATH` on seeded samples of "
                 f"{args.external_limit} sentences per set. Sets of news articles (MPQA, PolNeAR) are sampled "
                 "by whole articles and scored in context, as drafts are; the others a sentence at a time. "
                 "Labels here are the sets' own, mapped loosely; "
                 "read each caveat.", ""]
        lexicon = load_predictor("lexicon")
        for set_name in EXTERNAL_SETS:
            for name, predictor in {**models, "lexicon": lexicon}.items():
                rep = eval_external(set_name, args.external, predictor, limit=args.external_limit)
                parts += [rep.to_markdown().replace("# External set:", f"## {name} on"), ""]
        (args.output_dir / "external.md").write_text("\n".join(parts), encoding="utf-8")
    return 0


def _write_splits(args: argparse.Namespace, models: dict) -> None:
    """comparison.md/.json, confusion PNGs and one full report per model and split."""
    splits = {name: load_records(name) for name in ("dev", "test", "hard")}
    wiki = load_wikinews(args.wikinews)
    splits["wikinews_dev"] = [r for r in wiki if r["split"] == "wikinews_dev"]
    train = load_records("train") + [r for r in wiki if r["split"] == "wikinews_train"]
    predictors = {**models, **{name: load_predictor(name, train) for name in BASELINES}}
    reports = evaluate_grid(predictors, splits, n_resamples=args.resamples)
    write_comparison(reports, args.output_dir, notes=(
        "Produced by `python -m claimsift.eval.make_results` (see its docstring). Baselines fitted on corpus "
        f"train + wikinews_train ({len(train)} sentences), the data the models were trained on. Corpus splits "
        "are whole documents never seen in training; `hard` is the hard-case set; `wikinews_dev` is real news. "
        f"Models ran in {_precisions(models)} (`precision='auto'`: bf16 where the CPU or GPU has it natively)."
    ))
    for name in models:
        for split, records in splits.items():
            report = reports[split, name]
            if split.startswith("wikinews"):  # no quoted sentences from Wikinews in the repo
                report = evaluate(records, predict(models[name], records), n_resamples=args.resamples, k_errors=0)
            write_report(report, args.output_dir / f"{slug(name)}_{split}", title=f"{name} on {split}")


if __name__ == "__main__":
    sys.exit(main())
