"""Score several predictors on several splits and put the results side by side.

``evaluate_grid`` runs every predictor on every split; ``comparison_table`` renders the
figures as one Markdown table; ``write_comparison`` writes ``comparison.md``,
``comparison.json`` and one confusion PNG per split and model (``eval/results/`` by default).

Nothing written here quotes a sentence: the result files are committed, and Wikinews and
external texts must not be.

>>> from claimsift.eval.baselines import LexiconBaseline
>>> recs = [{"doc": "d", "i": 0, "text": "It may rain.", "label": "speculation"}]
>>> print(compare({"lexicon": LexiconBaseline()}, {"toy": recs}, n_resamples=10).splitlines()[2])
| toy | lexicon | 1 | 1.000 | 0.200 (0.200–0.200) | 0.000 | 0.000 | 1.000 | 0.000 | 0.000 | 0.400 |
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from claimsift.eval import RESULTS_DIR
from claimsift.eval.harness import EvalReport, run_eval
from claimsift.eval.plots import plot_confusion
from claimsift.eval.predictors import Predictor
from claimsift.eval.render import fmt, fmt_ci
from claimsift.model.labels import LABELS, Label

logger = logging.getLogger(__name__)



def evaluate_grid(
    predictors: Mapping[str, Predictor],
    splits: Mapping[str, Sequence[dict]],
    *,
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[tuple[str, str], EvalReport]:
    """An :class:`EvalReport` for each ``(split, model)`` pair, splits in the order given."""
    reports = {}
    for split, records in splits.items():
        for model, predictor in predictors.items():
            logger.info("evaluating %s on %s (%d sentences)", model, split, len(records))
            reports[split, model] = run_eval(records, predictor, n_resamples=n_resamples, seed=seed)
    return reports


def comparison_table(reports: Mapping[tuple[str, str], EvalReport]) -> str:
    """One Markdown row per ``(split, model)``: accuracy, macro-F1 with CI, per-label F1, ECE."""
    shorts = [Label(label).short for label in LABELS]
    lines = [
        "| split | model | n | accuracy | macro-F1 (95% CI) | " + " | ".join(f"F1 {s}" for s in shorts)
        + " | ECE |",
        "|---|---|---:|---:|---|" + "---:|" * len(shorts) + "---:|",
    ]
    for (split, model), r in reports.items():
        f1 = " | ".join(fmt(r.per_label[label]["f1"]) for label in LABELS)
        lines.append(
            f"| {split} | {model} | {r.n_sentences} | {fmt(r.accuracy)} | {fmt(r.macro_f1)} "
            f"({fmt_ci(r.macro_f1_ci)}) | {f1} | {fmt(r.ece)} |"
        )
    return "\n".join(lines) + "\n"


def compare(
    predictors: Mapping[str, Predictor],
    splits: Mapping[str, Sequence[dict]],
    *,
    n_resamples: int = 1000,
    seed: int = 0,
) -> str:
    """Evaluate every predictor on every split and return the Markdown comparison table."""
    return comparison_table(evaluate_grid(predictors, splits, n_resamples=n_resamples, seed=seed))


def comparison_figures(reports: Mapping[tuple[str, str], EvalReport]) -> dict[str, dict]:
    """JSON-safe figures keyed ``"split/model"``, without the worst errors (they quote sentences)."""
    figures = {}
    for (split, model), report in reports.items():
        data = report.to_dict()
        del data["worst_errors"]
        figures[f"{split}/{model}"] = data
    return figures


def slug(name: str) -> str:
    """A file-name-safe name for a split or model; a run's ``runs/NAME/model`` folder is called NAME.

    >>> slug("runs/distilled_v4/model"), slug("/models/my encoder"), slug("default")
    ('distilled_v4', 'my-encoder', 'default')
    """
    if "/" in name:
        path = Path(name)
        name = path.parent.name if path.name == "model" else path.name
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "model"


def write_comparison(
    reports: Mapping[tuple[str, str], EvalReport],
    output_dir: str | os.PathLike = RESULTS_DIR,
    *,
    notes: str = "",
) -> Path:
    """Write comparison.md (with ``notes`` above the table), comparison.json and confusion PNGs.

    The JSON leaves out each report's worst errors, which quote sentences. Returns the
    path of comparison.md.
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    sample = next(iter(reports.values()), None)
    intervals = (
        f"Intervals: {sample.confidence:.0%} bootstrap by document, {sample.n_resamples} resamples, "
        f"seed {sample.seed}." if sample else ""
    )
    md = "\n".join(["# Model comparison", "", notes.strip(), "", intervals, "", comparison_table(reports)])
    (out / "comparison.md").write_text(re.sub(r"\n{3,}", "\n\n", md), encoding="utf-8")
    for (split, model), report in reports.items():
        png = out / f"confusion_{slug(split)}_{slug(model)}.png"
        plot_confusion(report.confusion, report.labels, png, title=f"{model} on {split}")
    figures = comparison_figures(reports)
    (out / "comparison.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    logger.info("wrote %s", out / "comparison.md")
    return out / "comparison.md"
