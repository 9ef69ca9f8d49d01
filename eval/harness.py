"""Score predictions against gold sentence labels, and write the report files.

``evaluate`` is pure (records and predictions in, a frozen :class:`EvalReport` out);
``run_eval`` adds the edges: reading a sample file, running a predictor, writing
``report.md``, ``report.json``, ``confusion.png`` and ``reliability.png``.

Records with a null label (context-only sentences, as in some external files) are given to
the predictor, for context, but not scored.

>>> from claimsift.eval.baselines import LexiconBaseline
>>> recs = [{"doc": "d", "i": 0, "text": "Ann Lee said it rained.", "label": "attributed_quote",
...          "speaker": "Ann Lee", "role": None, "cue": "said", "named": True}]
>>> report = run_eval(recs, LexiconBaseline(), n_resamples=10)
>>> report.accuracy, report.attribution["cue"]["exact"]["f1"]
(1.0, 1.0)
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from claimsift.data.samples import normalise, read_samples
from claimsift.eval import metrics
from claimsift.eval.plots import plot_confusion, plot_reliability
from claimsift.eval.predictors import Predictor, predict
from claimsift.eval.render import confusion_table, fmt, fmt_ci, json_safe
from claimsift.model.labels import LABELS

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ErrorCase:
    """One wrong prediction with the sentences around it, for reading errors in context."""

    doc: str
    i: int
    text: str
    gold: str
    predicted: str
    confidence: float
    previous: str | None
    next: str | None


@dataclass(frozen=True)
class EvalReport:
    """Every figure of one evaluation; intervals are (low, high) bootstrap percentiles by document."""

    n_sentences: int
    n_documents: int
    n_unscored: int
    accuracy: float
    accuracy_ci: tuple[float, float]
    macro_f1: float
    macro_f1_ci: tuple[float, float]
    per_label: dict[str, dict]
    confusion: tuple[tuple[int, ...], ...]
    costly_errors: dict[str, float | None]
    ece: float
    reliability: tuple[dict, ...]
    attribution: dict
    worst_errors: tuple[ErrorCase, ...]
    labels: tuple[str, ...] = LABELS
    n_resamples: int = 1000
    seed: int = 0
    confidence: float = 0.95

    def to_dict(self) -> dict:
        """Plain JSON-safe data: tuples become lists and NaN becomes ``None``."""
        return json_safe(asdict(self))

    def to_markdown(self, title: str = "Evaluation") -> str:
        """A readable report: headline figures, per-label table, costly errors, confusion,
        attribution and the most confident errors."""
        pct = f"{self.confidence:.0%}"
        lines = [
            f"# {title}",
            "",
            f"{self.n_sentences} sentences in {self.n_documents} documents"
            + (f" ({self.n_unscored} unlabelled context sentences not scored)." if self.n_unscored else "."),
            f"Intervals: {pct} bootstrap by document, {self.n_resamples} resamples, seed {self.seed}.",
            "",
            f"| metric | value | {pct} CI |",
            "|---|---:|---|",
            f"| accuracy | {fmt(self.accuracy)} | {fmt_ci(self.accuracy_ci)} |",
            f"| macro-F1 | {fmt(self.macro_f1)} | {fmt_ci(self.macro_f1_ci)} |",
            f"| ECE (15 bins, top probability) | {fmt(self.ece)} | |",
            "",
            "## Per label",
            "",
            f"| label | precision | recall | F1 | F1 {pct} CI | support |",
            "|---|---:|---:|---:|---|---:|",
        ]
        for label, m in self.per_label.items():
            lines.append(
                f"| {label} | {fmt(m['precision'])} | {fmt(m['recall'])} | {fmt(m['f1'])} "
                f"| {fmt_ci(m['f1_ci'])} | {m['support']} |"
            )
        lines += ["", "## Costly errors (gold label predicted as reported_fact)", "", "| error | rate |",
                  "|---|---:|"]
        lines += [f"| {name} | {fmt(rate)} |" for name, rate in self.costly_errors.items()]
        lines += ["", "## Confusion (rows gold, columns predicted)", ""]
        lines += confusion_table(self.confusion, self.labels, "gold \\ predicted")
        a = self.attribution
        lines += ["", f"## Attribution ({a['n_sentences']} gold quote/expert sentences)", "",
                  "| field | exact P | exact R | exact F1 | token P | token R | token F1 | gold | pred |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for kind in metrics.ATTRIBUTION_FIELDS:
            e, t = a[kind]["exact"], a[kind]["token"]
            lines.append(
                f"| {kind} | {fmt(e['precision'])} | {fmt(e['recall'])} | {fmt(e['f1'])} "
                f"| {fmt(t['precision'])} | {fmt(t['recall'])} | {fmt(t['f1'])} "
                f"| {a[kind]['n_gold']} | {a[kind]['n_pred']} |"
            )
        lines += ["", f"Named/anonymous accuracy: {fmt(a['named_accuracy'])} over {a['n_named']} sentences."]
        if self.worst_errors:
            lines += ["", f"## The {len(self.worst_errors)} most confident errors", ""]
            for n, e in enumerate(self.worst_errors, 1):
                lines.append(f"{n}. **{e.gold} → {e.predicted}** ({e.confidence:.2f}), "
                             f"`{e.doc}` #{e.i}: {e.text}")
                if e.previous:
                    lines.append(f"   - before: {e.previous}")
                if e.next:
                    lines.append(f"   - after: {e.next}")
        return "\n".join(lines) + "\n"


def _check_parallel(records: Sequence[dict], predictions: Sequence[dict]) -> None:
    if len(records) != len(predictions):
        raise ValueError(
            f"one prediction per record expected; got {len(predictions)} for {len(records)} records"
        )


def worst_errors(records: Sequence[dict], predictions: Sequence[dict], k: int = 20) -> list[ErrorCase]:
    """The ``k`` wrong predictions with the highest probability on the predicted label.

    Each comes with the previous and next sentence of its document (by sentence number),
    labelled or not.

    >>> recs = [{"doc": "d", "i": n, "text": t, "label": "reported_fact"} for n, t in enumerate("ABC")]
    >>> pred = [{"label": "speculation", "scores": [0.1, 0.0, 0.9, 0.0, 0.0]}] * 3
    >>> e = worst_errors(recs, pred, k=1)[0]
    >>> e.text, e.previous, e.next
    ('A', None, 'B')
    """
    _check_parallel(records, predictions)
    order: dict[str, list[int]] = {}
    for n, r in enumerate(records):
        order.setdefault(r["doc"], []).append(n)
    neighbours: dict[int, tuple[str | None, str | None]] = {}
    for positions in order.values():
        positions.sort(key=lambda n: records[n]["i"])
        for j, n in enumerate(positions):
            prev = records[positions[j - 1]]["text"] if j > 0 else None
            nxt = records[positions[j + 1]]["text"] if j + 1 < len(positions) else None
            neighbours[n] = (prev, nxt)
    wrong = [
        (float(p["scores"][LABELS.index(p["label"])]), n)
        for n, (r, p) in enumerate(zip(records, predictions, strict=True))
        if r.get("label") is not None and p["label"] != r["label"]
    ]
    wrong.sort(key=lambda t: (-t[0], t[1]))
    return [
        ErrorCase(
            doc=records[n]["doc"], i=records[n]["i"], text=records[n]["text"], gold=records[n]["label"],
            predicted=predictions[n]["label"], confidence=conf,
            previous=neighbours[n][0], next=neighbours[n][1],
        )
        for conf, n in wrong[:k]
    ]


def evaluate(
    records: Sequence[dict],
    predictions: Sequence[dict],
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    k_errors: int = 20,
) -> EvalReport:
    """All figures for predictions on gold records (parallel lists; null-label records skipped).

    >>> recs = [{"doc": "d", "i": 0, "text": "It may rain.", "label": "speculation"},
    ...         {"doc": "d", "i": 1, "text": "It rained.", "label": "reported_fact"}]
    >>> preds = [{"label": "reported_fact", "scores": [0.7, 0.0, 0.3, 0.0, 0.0]}] * 2
    >>> r = evaluate(recs, preds, n_resamples=10)
    >>> r.accuracy, r.costly_errors["speculation_as_fact"], r.worst_errors[0].text
    (0.5, 1.0, 'It may rain.')
    """
    _check_parallel(records, predictions)
    scored = [(r, p) for r, p in zip(records, predictions, strict=True) if r.get("label") is not None]
    if not scored:
        raise ValueError("no labelled sentences to score: every record has a null label")
    gold = [r["label"] for r, _ in scored]
    pred = [p["label"] for _, p in scored]
    docs = [r["doc"] for r, _ in scored]
    probs = np.array([p["scores"] for _, p in scored], dtype=float)

    cms = metrics.bootstrap_confusions(gold, pred, docs, n_resamples=n_resamples, seed=seed)

    def ci(statistic: str) -> tuple[float, float]:
        return metrics.percentile_interval(metrics.statistic_values(cms, statistic), confidence)

    per_label = metrics.per_label(gold, pred)
    for label, m in per_label.items():
        m["f1_ci"] = ci(f"f1:{label}")
    return EvalReport(
        n_sentences=len(scored),
        n_documents=len(set(docs)),
        n_unscored=len(records) - len(scored),
        accuracy=metrics.accuracy(gold, pred),
        accuracy_ci=ci("accuracy"),
        macro_f1=metrics.macro_f1(gold, pred),
        macro_f1_ci=ci("macro_f1"),
        per_label=per_label,
        confusion=tuple(tuple(int(n) for n in row) for row in metrics.confusion(gold, pred)),
        costly_errors=metrics.costly_error_rates(gold, pred),
        ece=metrics.expected_calibration_error(gold, probs),
        reliability=tuple(metrics.reliability_bins(gold, probs)),
        attribution=metrics.attribution_quality([r for r, _ in scored], [p for _, p in scored]),
        worst_errors=tuple(worst_errors(records, predictions, k=k_errors)),
        n_resamples=n_resamples,
        seed=seed,
        confidence=confidence,
    )


def load_eval_records(
    path_or_records: str | os.PathLike | Sequence[dict], split: str | None = None
) -> list[dict]:
    """Sample records from a file (minimal or full form) or a list, optionally one ``split``.

    Null labels are allowed: those sentences serve as context only.
    """
    if isinstance(path_or_records, (str, os.PathLike)):
        records = read_samples(path_or_records, allow_null_label=True)
        where = str(path_or_records)
    else:
        records = [normalise(r, f"record {n}", allow_null_label=True) for n, r in enumerate(path_or_records)]
        where = "the records"
    if not records:
        raise ValueError(f"{where}: no records to evaluate")
    return records if split is None else select_split(records, split, where)


def select_split(records: Sequence[dict], split: str, where: str = "the records") -> list[dict]:
    """The records whose ``split`` field is ``split``; an error lists the splits there are.

    >>> select_split([{"split": "dev"}, {"split": "test"}], "dev")
    [{'split': 'dev'}]
    """
    chosen = [r for r in records if r.get("split") == split]
    if not chosen:
        found = sorted({str(r.get("split")) for r in records})
        raise ValueError(f"{where}: no records with split {split!r}; splits present: {found}")
    return chosen


def write_report(
    report: EvalReport, output_dir: str | os.PathLike, *, title: str = "Evaluation"
) -> list[Path]:
    """Write report.md, report.json, confusion.png and reliability.png; returns their paths."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(report.to_markdown(title), encoding="utf-8")
    (out / "report.json").write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
    paths = [out / "report.md", out / "report.json"]
    paths.append(plot_confusion(report.confusion, report.labels, out / "confusion.png", title=title))
    paths.append(plot_reliability(report.reliability, out / "reliability.png", ece=report.ece, title=title))
    logger.debug("wrote %s", ", ".join(str(p) for p in paths))
    return paths


def run_eval(
    path_or_records: str | os.PathLike | Sequence[dict],
    predictor: Predictor,
    output_dir: str | os.PathLike | None = None,
    *,
    split: str | None = None,
    title: str = "Evaluation",
    n_resamples: int = 1000,
    seed: int = 0,
) -> EvalReport:
    """Read records, predict, evaluate, and write the report files when ``output_dir`` is given."""
    records = load_eval_records(path_or_records, split)
    predictions = predict(predictor, records)
    report = evaluate(records, predictions, n_resamples=n_resamples, seed=seed)
    if output_dir is not None:
        write_report(report, output_dir, title=title)
    return report
