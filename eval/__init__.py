"""Evaluation harness (``claimsift.eval``): metrics, baselines, reports, agreement, external sets.

Names are imported on first use, so ``claimsift.eval.cli`` (loaded by every ``claimsift``
command) does not pay for scikit-learn and matplotlib until an evaluation runs.

>>> from claimsift.eval import evaluate, load_predictor
>>> from claimsift.eval.metrics import macro_f1
"""

from __future__ import annotations

import importlib
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"  # where eval-compare and make_results write

_EXPORTS = {
    "AgreementReport": "agreement", "agreement": "agreement",
    "LexiconBaseline": "baselines", "MajorityBaseline": "baselines", "TfidfLRBaseline": "baselines",
    "compare": "compare", "evaluate_grid": "compare", "write_comparison": "compare",
    "EXTERNAL_SETS": "external", "ExternalReport": "external", "eval_external": "external",
    "ErrorCase": "harness", "EvalReport": "harness", "evaluate": "harness", "run_eval": "harness",
    "worst_errors": "harness", "write_report": "harness",
    "Predictor": "predictors", "load_predictor": "predictors", "predict": "predictors",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
