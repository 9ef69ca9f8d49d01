"""Frozen result types: one :class:`SentenceResult` per sentence, with its attribution.

>>> a = Attribution(speaker=Field("Ann Lee", 0, 7), role=None, cue=Field("said", 8, 12), named=True)
>>> r = SentenceResult(text="Ann Lee said so.", start=0, end=16, label="attributed_quote", confidence=0.9,
...                    scores={"attributed_quote": 0.9}, attribution=a, index=0)
>>> r.to_dict()["attribution"]["speaker"]["text"], r.verify
('Ann Lee', 'Confirm that Ann Lee said this, in this context.')
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass

from claimsift.model.labels import LABELS, Label


@dataclass(frozen=True)
class Field:
    """A span of the sentence (``start``/``end`` are offsets into the sentence text).

    ``start`` and ``end`` are ``None`` when the value comes from context (a pronoun or a
    quote continuation resolved to the last named speaker).
    """

    text: str
    start: int | None
    end: int | None
    from_context: bool = False


@dataclass(frozen=True)
class Attribution:
    """Who is said to have said it, in what capacity, with which cue verb."""

    speaker: Field | None
    role: Field | None
    cue: Field | None
    named: bool  # the text names the source; can be true with no speaker span (the tagger missed it)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SentenceResult:
    """One labelled sentence. ``start``/``end`` index the scored input text."""

    text: str
    start: int
    end: int
    label: str
    confidence: float
    scores: dict[str, float]
    attribution: Attribution | None
    index: int = 0

    @property
    def verify(self) -> str | None:
        """What the desk has to check for this sentence, in words."""
        return verify_note(self.label, self.attribution)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["verify"] = self.verify
        return d


def verify_note(label: str, attribution: Attribution | None) -> str | None:
    """The verification instruction for a label and attribution."""
    who = attribution.speaker.text if attribution and attribution.speaker else None
    role = attribution.role.text if attribution and attribution.role else None
    if label == Label.ATTRIBUTED_QUOTE:
        return f"Confirm that {who or 'the source'} said this, in this context."
    if label == Label.UNVERIFIABLE_EXPERT_CLAIM:
        if who and attribution and attribution.named:
            held = f" and is {role}" if role else ""
            return f"Confirm that {who} exists{held}, and said this."
        if attribution and attribution.named:
            return "Find the source this sentence names, confirm it exists, and said this."
        return f"Unnamed or vague source ({who or 'none given'}): identify and confirm it, or cut the claim."
    if label == Label.REPORTED_FACT:
        return "Check the claim against the record."
    if label == Label.SPECULATION:
        return "Make sure it is not presented as fact."
    return None


_COLOURS = {
    "reported_fact": "#dbeafe", "attributed_quote": "#dcfce7", "speculation": "#fef3c7",
    "unverifiable_expert_claim": "#fee2e2", "no_claim": "#f3f4f6",
}


class Results(list):
    """A list of :class:`SentenceResult` that renders as a coloured table in Jupyter."""

    def _repr_html_(self) -> str:
        rows = []
        for r in self:
            who = ""
            if r.attribution and r.attribution.speaker:
                who = html.escape(r.attribution.speaker.text)
                if r.attribution.role:
                    who += f"<br><small>{html.escape(r.attribution.role.text)}</small>"
            rows.append(
                f'<tr style="background:{_COLOURS[r.label]}"><td>{r.index}</td>'
                f"<td>{html.escape(r.text)}</td><td><b>{r.label}</b></td>"
                f"<td>{r.confidence:.2f}</td><td>{who}</td></tr>"
            )
        head = "<tr><th>#</th><th>sentence</th><th>label</th><th>conf.</th><th>speaker / role</th></tr>"
        return f"<table>{head}{''.join(rows)}</table>"


assert set(_COLOURS) == set(LABELS)
