"""The predictor contract shared by the real model and the baselines, and how to load one.

A predictor is any object with ``predict_records(records) -> list[dict]``: one prediction per
input record, in the same order. Records arrive grouped by document in sentence order,
because a real model reads the neighbouring sentences. Each prediction is::

    {"label": str, "scores": [float] * 5 (probabilities in LABELS order),
     "speaker": str | None, "role": str | None, "cue": str | None, "named": bool | None,
     "spans": {"speaker": [start, end] | None, "role": ..., "cue": ...}}

>>> p = load_predictor("lexicon")
>>> predict(p, [{"doc": "d", "i": 0, "text": "Analysts say prices may rise."}])[0]["label"]
'unverifiable_expert_claim'
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from claimsift.eval.baselines import BASELINES, make_baseline
from claimsift.model.labels import LABELS, SPAN_KINDS

logger = logging.getLogger(__name__)


@runtime_checkable
class Predictor(Protocol):
    """Anything that labels sentence records; see the module docstring for the prediction shape."""

    def predict_records(self, records: list[dict]) -> list[dict]: ...


def load_predictor(name: str, train_records: Sequence[dict] | None = None) -> Predictor:
    """A baseline by name (fitted on ``train_records``, default the corpus train split) or a model.

    Any other name or path goes to ``ClaimDetector.from_pretrained``, imported only here so
    evaluating a baseline needs neither torch nor the model code.

    >>> load_predictor("lexicon").__class__.__name__
    'LexiconBaseline'
    """
    if name in BASELINES:
        return make_baseline(name, train_records)
    from claimsift.model.detector import ClaimDetector

    return ClaimDetector.from_pretrained(name)


def check_prediction(pred: object, where: str) -> None:
    """Raise ``ValueError`` naming ``where`` unless ``pred`` follows the prediction contract."""
    if not isinstance(pred, dict):
        raise ValueError(f"{where}: a prediction must be a dict, got {type(pred).__name__}")
    if pred.get("label") not in LABELS:
        raise ValueError(f"{where}: label {pred.get('label')!r} is not one of {list(LABELS)}")
    scores = pred.get("scores")
    if not isinstance(scores, (list, tuple)) or len(scores) != len(LABELS):
        raise ValueError(f"{where}: 'scores' must be {len(LABELS)} probabilities in LABELS order")
    if any(not math.isfinite(s) or s < 0 for s in scores) or abs(sum(scores) - 1) > 1e-3:
        raise ValueError(f"{where}: 'scores' must be probabilities summing to 1, got {list(scores)}")
    spans = pred.get("spans")
    if not isinstance(spans, dict) or set(spans) != set(SPAN_KINDS):
        raise ValueError(f"{where}: 'spans' must be a dict with keys {list(SPAN_KINDS)}")


def predict(predictor: Predictor, records: Sequence[dict], *, docs_per_call: int = 200) -> list[dict]:
    """Run a predictor over records, whole documents at a time, and check what comes back.

    Calls hold ``docs_per_call`` complete documents so a large file shows progress in the log
    and no document is cut from its context.
    """
    records = list(records)
    starts = [k for k, r in enumerate(records) if k == 0 or r["doc"] != records[k - 1]["doc"]]
    bounds = starts[::docs_per_call] + [len(records)]
    out: list[dict] = []
    for n, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        batch = records[lo:hi]
        preds = predictor.predict_records(batch)
        if len(preds) != len(batch):
            raise ValueError(
                f"{type(predictor).__name__}.predict_records returned {len(preds)} predictions for "
                f"{len(batch)} records; it must return one per record, in order"
            )
        for rec, pred in zip(batch, preds, strict=True):
            check_prediction(pred, f"prediction for doc {rec['doc']!r} sentence {rec['i']}")
        out.extend(preds)
        logger.info("predicted %d/%d sentences (call %d)", len(out), len(records), n + 1)
    return out
