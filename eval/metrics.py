"""Pure metric functions: labels in, numbers out; no I/O, no models.

Point estimates come from scikit-learn with ``labels=LABELS`` passed explicitly, so a label
absent from a small set still gets its row (and an F1 of 0, ``zero_division=0``). Bootstrap
intervals resample whole documents, because sentences of one document are not independent;
they are computed from per-document confusion matrices so 1000 resamples cost milliseconds.

>>> gold = ["reported_fact", "speculation", "no_claim", "speculation"]
>>> pred = ["reported_fact", "reported_fact", "no_claim", "speculation"]
>>> accuracy(gold, pred)
0.75
>>> costly_error_rates(gold, pred)["speculation_as_fact"]
0.5
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from claimsift.model.labels import LABELS, Label
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

# The newsroom's expensive mistakes: a claim that needs checking shown as plain fact.
COSTLY_ERRORS: dict[str, tuple[str, str]] = {
    "speculation_as_fact": (Label.SPECULATION.value, Label.REPORTED_FACT.value),
    "expert_claim_as_fact": (Label.UNVERIFIABLE_EXPERT_CLAIM.value, Label.REPORTED_FACT.value),
    "quote_as_fact": (Label.ATTRIBUTED_QUOTE.value, Label.REPORTED_FACT.value),
}
ATTRIBUTION_FIELDS = ("speaker", "role", "cue")


def accuracy(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    """Fraction of sentences whose predicted label is the gold label.

    >>> accuracy(["no_claim", "speculation"], ["no_claim", "no_claim"])
    0.5
    """
    return float(accuracy_score(y_true, y_pred))


def macro_f1(y_true: Sequence[str], y_pred: Sequence[str], *, labels: Sequence[str] = LABELS) -> float:
    """Unweighted mean of per-label F1 over ``labels`` (absent labels count as 0).

    >>> macro_f1(["no_claim", "speculation"], ["no_claim", "speculation"], labels=["no_claim", "speculation"])
    1.0
    """
    return float(f1_score(y_true, y_pred, labels=list(labels), average="macro", zero_division=0))


def per_label(
    y_true: Sequence[str], y_pred: Sequence[str], *, labels: Sequence[str] = LABELS
) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and gold support for each label, in ``labels`` order.

    >>> per_label(["no_claim"], ["no_claim"], labels=["no_claim"])["no_claim"]["f1"]
    1.0
    """
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=list(labels), zero_division=0)
    return {
        label: {"precision": float(p[k]), "recall": float(r[k]), "f1": float(f[k]), "support": int(s[k])}
        for k, label in enumerate(labels)
    }


def confusion(
    y_true: Sequence[str], y_pred: Sequence[str], *, labels: Sequence[str] = LABELS
) -> np.ndarray:
    """Counts with gold labels as rows and predicted labels as columns, both in ``labels`` order.

    >>> confusion(["no_claim", "no_claim"], ["no_claim", "speculation"], labels=["no_claim", "speculation"])
    array([[1, 1],
           [0, 0]])
    """
    return confusion_matrix(y_true, y_pred, labels=list(labels))


def costly_error_rates(
    y_true: Sequence[str], y_pred: Sequence[str]
) -> dict[str, float | None]:
    """For each costly error, the fraction of its gold label predicted as ``reported_fact``.

    ``None`` when the gold label does not occur (a rate over nothing is not zero).

    >>> costly_error_rates(["attributed_quote"], ["reported_fact"])["quote_as_fact"]
    1.0
    """
    return rates_from_confusion(confusion(y_true, y_pred))


def rates_from_confusion(cm: np.ndarray, labels: Sequence[str] = LABELS) -> dict[str, float | None]:
    """The costly error rates read off a confusion matrix (rows gold, columns predicted)."""
    out: dict[str, float | None] = {}
    for name, (gold, pred) in COSTLY_ERRORS.items():
        row = cm[labels.index(gold)]
        out[name] = float(row[labels.index(pred)] / row.sum()) if row.sum() else None
    return out


# --- bootstrap by document -------------------------------------------------------------------


def f1_from_confusion(cm: np.ndarray) -> np.ndarray:
    """Per-label F1 from one confusion matrix ``(L, L)`` or a stack ``(R, L, L)``; 0 where undefined.

    Equals scikit-learn's ``f1_score(..., zero_division=0)``: F1 = 2tp / (2tp + fp + fn).

    >>> f1_from_confusion(np.array([[1, 1], [0, 2]])).round(3).tolist()
    [0.667, 0.8]
    """
    tp = np.diagonal(cm, axis1=-2, axis2=-1).astype(float)
    fp = cm.sum(axis=-2) - tp  # column sums: everything predicted as the label
    fn = cm.sum(axis=-1) - tp  # row sums: everything that is the label
    denom = 2 * tp + fp + fn
    return np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)


def bootstrap_confusions(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    groups: Sequence[str],
    *,
    labels: Sequence[str] = LABELS,
    n_resamples: int = 1000,
    seed: int = 0,
) -> np.ndarray:
    """Confusion matrices ``(n_resamples, L, L)`` of document-level bootstrap resamples.

    Each resample draws as many documents as there are, with replacement; a document drawn
    twice counts twice. Same inputs and seed, same matrices.

    >>> cms = bootstrap_confusions(["no_claim"] * 2, ["no_claim"] * 2, ["a", "b"], n_resamples=3)
    >>> cms.shape, int(cms[0].sum())
    ((3, 5, 5), 2)
    """
    if not (len(y_true) == len(y_pred) == len(groups)):
        raise ValueError(
            f"y_true, y_pred and groups must have one entry per sentence; got {len(y_true)}, "
            f"{len(y_pred)} and {len(groups)}"
        )
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    docs, doc_index = np.unique(np.asarray(groups, dtype=object).astype(str), return_inverse=True)
    index = {label: k for k, label in enumerate(labels)}
    n_labels = len(labels)
    cell = np.array([index[t] * n_labels + index[p] for t, p in zip(y_true, y_pred, strict=True)], dtype=int)
    per_doc = np.zeros((len(docs), n_labels * n_labels))
    np.add.at(per_doc, (doc_index, cell), 1)
    rng = np.random.default_rng(seed)
    # How often each document is drawn in each resample; the sum of drawn documents' matrices
    # is then one matrix product.
    draws = rng.multinomial(len(docs), np.full(len(docs), 1 / len(docs)), size=n_resamples)
    return (draws @ per_doc).reshape(n_resamples, n_labels, n_labels)


def percentile_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """The central ``confidence`` interval of bootstrap values (percentile method), NaNs ignored.

    >>> [round(v, 6) for v in percentile_interval(np.arange(101.0))]
    [2.5, 97.5]
    """
    tail = (1 - confidence) / 2 * 100
    low, high = np.nanpercentile(values, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_ci(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    groups: Sequence[str],
    statistic: Callable[[np.ndarray], float] | str = "macro_f1",
    *,
    labels: Sequence[str] = LABELS,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Bootstrap confidence interval of a statistic, resampling documents (``groups``).

    ``statistic`` is ``"accuracy"``, ``"macro_f1"``, ``"f1:<label>"`` or a function of one
    ``(L, L)`` confusion matrix.

    >>> gold = ["no_claim", "speculation", "no_claim", "reported_fact"]
    >>> pred = ["no_claim", "no_claim", "no_claim", "reported_fact"]
    >>> low, high = bootstrap_ci(gold, pred, ["a", "a", "b", "c"], "accuracy", n_resamples=200)
    >>> low <= accuracy(gold, pred) <= high
    True
    """
    cms = bootstrap_confusions(y_true, y_pred, groups, labels=labels, n_resamples=n_resamples, seed=seed)
    return percentile_interval(statistic_values(cms, statistic, labels=labels), confidence)


def statistic_values(
    cms: np.ndarray, statistic: Callable[[np.ndarray], float] | str, *, labels: Sequence[str] = LABELS
) -> np.ndarray:
    """A statistic evaluated on each of a stack of confusion matrices ``(R, L, L)``."""
    if callable(statistic):
        return np.array([statistic(cm) for cm in cms], dtype=float)
    if statistic == "accuracy":
        totals = cms.sum(axis=(1, 2))
        return np.diagonal(cms, axis1=1, axis2=2).sum(axis=1) / np.where(totals > 0, totals, 1)
    if statistic == "macro_f1":
        return f1_from_confusion(cms).mean(axis=1)
    if statistic.startswith("f1:") and statistic[3:] in labels:
        return f1_from_confusion(cms)[:, list(labels).index(statistic[3:])]
    raise ValueError(
        f"unknown statistic {statistic!r}; use 'accuracy', 'macro_f1', 'f1:<label>' or a function"
    )


# --- calibration ------------------------------------------------------------------------------


def reliability_bins(
    y_true: Sequence[str], probs: np.ndarray, *, labels: Sequence[str] = LABELS, n_bins: int = 15
) -> list[dict[str, float | int]]:
    """Equal-width bins on the top probability: count, mean confidence and accuracy of each.

    A sentence is in bin ``b`` when its top probability lies in ``(b/n, (b+1)/n]`` (0 goes in
    the first bin). Empty bins are kept, with confidence and accuracy ``None``.

    >>> b = reliability_bins(["no_claim", "speculation"], np.array([[0.9, 0.1], [0.8, 0.2]]),
    ...                      labels=["no_claim", "speculation"], n_bins=2)
    >>> b[1]["count"], b[1]["accuracy"]
    (2, 0.5)
    """
    probs = np.asarray(probs, dtype=float)
    if probs.ndim != 2 or probs.shape != (len(y_true), len(labels)):
        raise ValueError(
            f"probs must have shape (n_sentences, n_labels) = ({len(y_true)}, {len(labels)}), "
            f"got {probs.shape}"
        )
    confidence = probs.max(axis=1)
    correct = np.asarray(labels)[probs.argmax(axis=1)] == np.asarray(y_true)
    which = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    bins = []
    for b in range(n_bins):
        mask = which == b
        n = int(mask.sum())
        bins.append({
            "lower": b / n_bins,
            "upper": (b + 1) / n_bins,
            "count": n,
            "confidence": float(confidence[mask].mean()) if n else None,
            "accuracy": float(correct[mask].mean()) if n else None,
        })
    return bins


def expected_calibration_error(
    y_true: Sequence[str], probs: np.ndarray, *, labels: Sequence[str] = LABELS, n_bins: int = 15
) -> float:
    """ECE: the count-weighted mean gap between accuracy and confidence over equal-width bins.

    The prediction is the top-probability label and its probability is the confidence.

    >>> round(expected_calibration_error(["no_claim", "speculation"], np.array([[0.9, 0.1], [0.8, 0.2]]),
    ...                                  labels=["no_claim", "speculation"], n_bins=2), 6)
    0.35
    """
    bins = reliability_bins(y_true, probs, labels=labels, n_bins=n_bins)
    total = sum(b["count"] for b in bins)
    gap = sum(b["count"] * abs(b["accuracy"] - b["confidence"]) for b in bins if b["count"])
    return float(gap / total) if total else float("nan")


# --- attribution --------------------------------------------------------------------------------

_TOKEN = re.compile(r"\w+", re.UNICODE)


def normalise_text(value: str | None) -> str:
    """Case-folded words joined by single spaces: quotes, commas and spacing do not count.

    >>> normalise_text('  "Dr. Anya  Petrova,"')
    'dr anya petrova'
    """
    return " ".join(_TOKEN.findall(value.casefold())) if value else ""


def _prf(hits: float, n_pred: float, n_gold: float) -> dict[str, float | None]:
    precision = hits / n_pred if n_pred else None
    recall = hits / n_gold if n_gold else None
    if precision is None or recall is None:
        f1 = None
    else:
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def field_match(golds: Sequence[str | None], preds: Sequence[str | None]) -> dict[str, dict]:
    """Exact and token-overlap precision/recall/F1 of predicted strings against gold strings.

    Strings are compared after :func:`normalise_text`. Exact: a hit is an identical pair;
    precision divides by predicted non-empty strings, recall by gold ones. Token: bag-of-words
    overlap summed over pairs (micro), divided by predicted and gold token counts.

    >>> m = field_match(["Dr. Anya Petrova", "analysts", None], ["Anya Petrova", None, "said"])
    >>> m["exact"]["recall"], round(m["token"]["precision"], 3), m["n_gold"]
    (0.0, 0.667, 2)
    """
    if len(golds) != len(preds):
        raise ValueError(f"golds and preds must be parallel; got {len(golds)} and {len(preds)}")
    exact = n_pred = n_gold = 0
    overlap = pred_tokens = gold_tokens = 0
    for gold, pred in zip(golds, preds, strict=True):
        g, p = normalise_text(gold), normalise_text(pred)
        n_gold += bool(g)
        n_pred += bool(p)
        exact += bool(g) and g == p
        g_tok, p_tok = g.split(), p.split()
        gold_tokens += len(g_tok)
        pred_tokens += len(p_tok)
        overlap += sum(min(g_tok.count(t), p_tok.count(t)) for t in set(p_tok))
    return {
        "exact": _prf(exact, n_pred, n_gold),
        "token": _prf(overlap, pred_tokens, gold_tokens),
        "n_gold": n_gold,
        "n_pred": n_pred,
    }


def attribution_quality(gold_records: Sequence[dict], predictions: Sequence[dict]) -> dict:
    """Speaker, role and cue matching, and named/anonymous accuracy, over gold quote/expert sentences.

    Strings are compared, not spans, so a speaker named in an earlier sentence
    (``speaker_in_context``) is scored like any other. ``named`` accuracy is over gold sentences
    whose ``named`` is set; a missing prediction counts as wrong.

    >>> gold = [{"label": "attributed_quote", "speaker": "Ann Lee", "role": None, "cue": "said",
    ...          "named": True}]
    >>> pred = [{"speaker": "Ann Lee", "role": None, "cue": "told", "named": True}]
    >>> q = attribution_quality(gold, pred)
    >>> q["speaker"]["exact"]["f1"], q["cue"]["exact"]["f1"], q["named_accuracy"]
    (1.0, 0.0, 1.0)
    """
    if len(gold_records) != len(predictions):
        raise ValueError(
            f"one prediction per record expected; got {len(predictions)} for {len(gold_records)} records"
        )
    pairs = [
        (g, p) for g, p in zip(gold_records, predictions, strict=True)
        if g.get("label") is not None and Label(g["label"]).has_attribution
    ]
    out: dict = {"n_sentences": len(pairs)}
    for field in ATTRIBUTION_FIELDS:
        out[field] = field_match([g.get(field) for g, _ in pairs], [p.get(field) for _, p in pairs])
    named = [(g["named"], p.get("named")) for g, p in pairs if g.get("named") is not None]
    out["named_accuracy"] = sum(g == p for g, p in named) / len(named) if named else None
    out["n_named"] = len(named)
    return out


# --- agreement and ranking ----------------------------------------------------------------------


def kappa(a: Sequence[str], b: Sequence[str], *, labels: Sequence[str] = LABELS) -> float:
    """Cohen's kappa between two annotations of the same sentences; NaN when undefined.

    Undefined means both annotators used one and the same label throughout; callers render
    NaN as "n/a", so scikit-learn's warning about it is silenced here.

    >>> round(kappa(["no_claim", "no_claim", "speculation", "speculation"],
    ...             ["no_claim", "speculation", "speculation", "speculation"]), 3)
    0.5
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return float(cohen_kappa_score(a, b, labels=list(labels), replace_undefined_by=np.nan))


def per_label_kappa(
    a: Sequence[str], b: Sequence[str], *, labels: Sequence[str] = LABELS
) -> dict[str, float]:
    """One-vs-rest Cohen's kappa for each label (NaN where neither annotator varies on it).

    >>> per_label_kappa(["no_claim", "speculation"], ["no_claim", "speculation"], labels=["no_claim"])
    {'no_claim': 1.0}
    """
    a_arr, b_arr = np.asarray(a), np.asarray(b)
    return {label: kappa(a_arr == label, b_arr == label, labels=[False, True]) for label in labels}


def auroc(y_true: Sequence[bool], scores: Sequence[float]) -> float | None:
    """Area under the ROC curve of ``scores`` for a binary truth; ``None`` if one class is absent.

    >>> auroc([True, False, True], [0.9, 0.2, 0.4])
    1.0
    """
    y = np.asarray(y_true, dtype=bool)
    if y.all() or not y.any():
        return None
    return float(roc_auc_score(y, scores))


def binary_prf(y_true: Sequence[bool], y_pred: Sequence[bool]) -> dict[str, float | int]:
    """Precision, recall and F1 of the positive class of a binary task, with supports.

    >>> binary_prf([True, True, False], [True, False, True])["f1"]
    0.5
    """
    p, r, f, _ = precision_recall_fscore_support(
        np.asarray(y_true, bool), np.asarray(y_pred, bool), labels=[True], zero_division=0
    )
    return {
        "precision": float(p[0]), "recall": float(r[0]), "f1": float(f[0]),
        "n_positive": int(np.sum(y_true)), "n_negative": int(len(y_true) - np.sum(y_true)),
    }
