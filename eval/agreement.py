"""Agreement between two annotations of the same sentences (matched by document and number).

>>> a = [{"doc": "d", "i": 0, "text": "X.", "label": "no_claim"},
...      {"doc": "d", "i": 1, "text": "Y.", "label": "no_claim"}]
>>> b = [{"doc": "d", "i": 0, "text": "X.", "label": "no_claim"},
...      {"doc": "d", "i": 1, "text": "Y.", "label": "speculation"}]
>>> agreement(a, b).raw_agreement
0.5
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from claimsift.eval import metrics
from claimsift.eval.render import confusion_table, fmt, json_safe
from claimsift.model.labels import LABELS


@dataclass(frozen=True)
class AgreementReport:
    """Kappa overall and one-vs-rest per label, raw agreement, and the annotators' confusion."""

    n_matched: int
    n_only_a: int
    n_only_b: int
    raw_agreement: float
    kappa: float
    per_label_kappa: dict[str, float]
    confusion: tuple[tuple[int, ...], ...]
    labels: tuple[str, ...] = LABELS

    def to_dict(self) -> dict:
        """JSON-safe data; an undefined kappa (NaN) becomes ``None``."""
        return json_safe(asdict(self))

    def to_markdown(self, title: str = "Annotator agreement") -> str:
        """Kappa table and the confusion between annotators (A rows, B columns)."""
        lines = [
            f"# {title}", "",
            f"{self.n_matched} labelled sentences in both files "
            f"({self.n_only_a} only in A, {self.n_only_b} only in B).",
            "", "| measure | value |", "|---|---:|",
            f"| raw agreement | {fmt(self.raw_agreement)} |", f"| Cohen's kappa | {fmt(self.kappa)} |",
        ]
        lines += [f"| kappa, {label} vs rest | {fmt(k)} |" for label, k in self.per_label_kappa.items()]
        lines += ["", *confusion_table(self.confusion, self.labels, "A \\ B")]
        return "\n".join(lines) + "\n"


def agreement(records_a: Sequence[dict], records_b: Sequence[dict]) -> AgreementReport:
    """Compare two annotations sentence by sentence, matching on ``(doc, i)``.

    Sentences present in only one file, or labelled null in either, are counted but not
    compared. A matched pair whose texts differ means the files do not annotate the same
    sentences, so it is an error rather than a disagreement.
    """
    a_by_key = {(r["doc"], r["i"]): r for r in records_a}
    b_by_key = {(r["doc"], r["i"]): r for r in records_b}
    common = [k for k in a_by_key if k in b_by_key]
    mismatched = [k for k in common if a_by_key[k]["text"].strip() != b_by_key[k]["text"].strip()]
    if mismatched:
        shown = ", ".join(f"{doc}#{i}" for doc, i in mismatched[:5])
        raise ValueError(
            f"{len(mismatched)} sentence(s) have the same (doc, i) but different text in the two files "
            f"(first: {shown}); both files must annotate the same segmentation"
        )
    pairs = [
        (a_by_key[k]["label"], b_by_key[k]["label"]) for k in common
        if a_by_key[k].get("label") is not None and b_by_key[k].get("label") is not None
    ]
    if not pairs:
        raise ValueError("the two files share no labelled sentence (matched on doc and i)")
    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    return AgreementReport(
        n_matched=len(pairs),
        n_only_a=len(a_by_key) - len(common),
        n_only_b=len(b_by_key) - len(common),
        raw_agreement=metrics.accuracy(a, b),
        kappa=metrics.kappa(a, b),
        per_label_kappa=metrics.per_label_kappa(a, b),
        confusion=tuple(tuple(int(n) for n in row) for row in metrics.confusion(a, b)),
    )
