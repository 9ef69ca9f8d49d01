"""claimsift: label every sentence of a news draft by what a fact-checker must do with it.

>>> from claimsift import segment
>>> [s.text for s in segment("Prices rose. Analysts say they may fall.")]
['Prices rose.', 'Analysts say they may fall.']
>>> from claimsift import ClaimDetector                  # doctest: +SKIP
>>> ClaimDetector.from_pretrained().score("Economists warn rents will rise.")[0].label  # doctest: +SKIP
'unverifiable_expert_claim'
"""

from importlib import import_module

__version__ = "0.1.0"

# Public names load on first use, so `import claimsift` and the CLI start without importing torch.
_EXPORTS = {
    "ClaimDetector": "claimsift.model.detector", "DetectorConfig": "claimsift.model.detector",
    "LABELS": "claimsift.model.labels", "Label": "claimsift.model.labels",
    "Attribution": "claimsift.model.results", "Field": "claimsift.model.results",
    "Results": "claimsift.model.results", "SentenceResult": "claimsift.model.results",
    "Span": "claimsift.model.segment", "segment": "claimsift.model.segment",
}
__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'claimsift' has no attribute {name!r}")
