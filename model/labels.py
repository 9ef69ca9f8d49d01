"""The five sentence labels, defined once and imported everywhere else.

>>> Label("speculation").short
'SPEC'
>>> [l.value for l in Label][:2]
['reported_fact', 'attributed_quote']
"""

from __future__ import annotations

from enum import Enum


class Label(str, Enum):
    """What a fact-checker must do with a sentence (see data/GUIDELINES.md)."""

    REPORTED_FACT = "reported_fact"
    ATTRIBUTED_QUOTE = "attributed_quote"
    SPECULATION = "speculation"
    UNVERIFIABLE_EXPERT_CLAIM = "unverifiable_expert_claim"
    NO_CLAIM = "no_claim"

    @property
    def short(self) -> str:
        return _SHORT[self]

    @property
    def has_attribution(self) -> bool:
        """Quotes and expert claims carry a speaker, role and cue to verify."""
        return self in (Label.ATTRIBUTED_QUOTE, Label.UNVERIFIABLE_EXPERT_CLAIM)


_SHORT = {
    Label.REPORTED_FACT: "FACT",
    Label.ATTRIBUTED_QUOTE: "QUOTE",
    Label.SPECULATION: "SPEC",
    Label.UNVERIFIABLE_EXPERT_CLAIM: "EXPERT",
    Label.NO_CLAIM: "NONE",
}

LABELS: tuple[str, ...] = tuple(label.value for label in Label)
ID2LABEL: dict[int, str] = dict(enumerate(LABELS))
LABEL2ID: dict[str, int] = {v: k for k, v in ID2LABEL.items()}

# Attribution span kinds tagged by the token head, BIO-encoded.
SPAN_KINDS: tuple[str, ...] = ("speaker", "role", "cue")
TAGS: tuple[str, ...] = ("O",) + tuple(f"{p}-{k}" for k in SPAN_KINDS for p in ("B", "I"))
