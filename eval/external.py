"""Evaluate on public datasets converted to one schema (see ``shared/external/README.md``).

None of these sets carries gold labels in our scheme, so each report says only what its
mapping honestly supports:

* ``conll2010`` (Wikipedia weasel/hedge) and ``szeged`` (Wikipedia uncertainty): how well
  predicted speculation or unverifiable_expert_claim separates uncertain from certain
  sentences (precision, recall, F1, and AUROC of the summed probability). Szeged does not
  mark weasel sources, so expert claims among its "certain" sentences are not all errors.
* ``claimbuster``, ``checkthat_debates``, ``checkthat_tweets``: how check-worthy and
  non-factual sentences distribute over our labels; the binary figures treat
  reported_fact, attributed_quote and unverifiable_expert_claim as "something to check".
* ``checkthat_subjectivity``: SUBJ versus OBJ against predicted speculation.
* ``mpqa`` and ``polnear``: per-label metrics on rows with a mapped label. These are
  **silver** labels from rules over the source annotation, not gold.

Where a set's rows are sentences of news articles with their place in them (``doc`` and ``i``:
MPQA, PolNeAR), whole articles are scored in order, each sentence in its context, as a desk's
drafts are; the sample is then of articles, and a sentence already seen in an earlier article
(a reprinted wire story) stays as context but is counted once. Other sets (the CheckThat
debates give a whole debate as one document), or any set with ``context=False``, are scored a
sentence at a time, each as its own document.
Files are read from a path and never copied. Texts are deduplicated (first row wins).

>>> sorted(EXTERNAL_SETS)[:3]
['checkthat_debates', 'checkthat_subjectivity', 'checkthat_tweets']
"""

from __future__ import annotations

import ast
import logging
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from claimsift.data.samples import normalise
from claimsift.eval import metrics
from claimsift.eval.predictors import Predictor, predict
from claimsift.eval.render import confusion_table, fmt, json_safe
from claimsift.model.attribution import PRONOUNS
from claimsift.model.jsonl import json_objects
from claimsift.model.labels import LABELS, Label

logger = logging.getLogger(__name__)

_UNCERTAIN = (Label.SPECULATION.value, Label.UNVERIFIABLE_EXPERT_CLAIM.value)
_ATTRIBUTED = (Label.ATTRIBUTED_QUOTE.value, Label.UNVERIFIABLE_EXPERT_CLAIM.value)
_CHECKABLE = (Label.REPORTED_FACT.value, Label.ATTRIBUTED_QUOTE.value, Label.UNVERIFIABLE_EXPERT_CLAIM.value)


@dataclass(frozen=True)
class ExternalSet:
    """How one converted file is read: which source groups are the positive and negative class
    of its binary check, and which of our labels' probabilities are summed as the score."""

    filename: str
    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()
    score_labels: tuple[str, ...] = ()
    silver: bool = False
    caveat: str = ""
    # Its rows are sentences of articles (``doc`` and ``i``), scored in context by default. A
    # debate transcript is not: one is a whole evening, so a sample of it is a single event.
    articles: bool = False
    # Its source_label gives the source and cue spans of a speech attribution (PolNeAR).
    spans: bool = False


EXTERNAL_SETS: dict[str, ExternalSet] = {
    "conll2010": ExternalSet(
        "conll2010_wikipedia_weasel.jsonl", ("uncertain",), ("certain",), _UNCERTAIN,
        caveat="'uncertain' also holds vague quantities that are reported_fact for us; 'certain' holds "
               "headings and quotes.",
    ),
    "szeged": ExternalSet(
        "szeged_uncertainty_wikipedia.jsonl", ("uncertain",), ("certain",), _UNCERTAIN,
        caveat="weasel sources are not marked uncertain here, and dynamic 'may' is; titles are left out "
               "of the binary check (see their distribution).",
    ),
    "claimbuster": ExternalSet(
        "claimbuster.jsonl", ("CFS",), ("NFS",), _CHECKABLE,
        caveat="spoken debate text; NFS mixes opinion (speculation), questions (no_claim) and promises; "
               "UFS and NCS are shown in the distribution only.",
    ),
    "checkthat_debates": ExternalSet(
        "checkthat2020_task5_debates.jsonl", ("check-worthy",), ("not-check-worthy",), _CHECKABLE,
        caveat="not-check-worthy includes many plain facts, so a checkable prediction there is often right.",
    ),
    "checkthat_tweets": ExternalSet(
        "checkthat2020_task1_tweets.jsonl", ("claim=1;check_worthy=1", "claim=1;check_worthy=0"),
        ("claim=0;check_worthy=0",), _CHECKABLE,
        caveat="a tweet is several sentences in several voices, labelled as a whole.",
    ),
    "checkthat_subjectivity": ExternalSet(
        "checkthat_subjectivity_en.jsonl", ("SUBJ",), ("OBJ",), (Label.SPECULATION.value,),
        caveat="OBJ covers others' reported opinions (attributed_quote for us) and some forecasts; SUBJ "
               "includes exhortation (no_claim for us). Licence CC BY-NC-SA 4.0: evaluation only.",
    ),
    "mpqa": ExternalSet(
        "mpqa_1_2_news.jsonl", silver=True,
        caveat="silver labels from rules over MPQA 1.2 annotations; foreign-press news of 2001-02.",
        articles=True,
    ),
    "polnear": ExternalSet(
        "polnear_attribution.jsonl", silver=True,
        caveat="silver labels from rules over PolNeAR attribution spans; named experts are often "
               "mislabelled attributed_quote.",
        articles=True, spans=True,
    ),
}


@dataclass(frozen=True)
class ExternalReport:
    """Figures for one external set; ``binary`` or ``silver`` is ``None`` where it does not apply."""

    name: str
    path: str
    n_rows: int
    n_duplicates: int
    n_evaluated: int
    limit: int | None
    seed: int
    context: bool
    n_documents: int
    distribution: dict[str, dict]
    binary: dict | None
    silver: dict | None
    caveat: str
    attribution: dict | None = None

    def to_dict(self) -> dict:
        """JSON-safe data."""
        return json_safe(asdict(self))

    def to_markdown(self) -> str:
        """Distribution table, then the binary or silver figures, then the caveat."""
        shorts = [Label(label).short for label in LABELS]
        if self.context:
            sample = (f", whole documents of a seeded sample (seed {self.seed}) up to {self.limit} sentences"
                      if self.limit else "")
            how = (f"{self.n_evaluated} evaluated in {self.n_documents} documents{sample}. Whole documents are "
                   "scored in order, each sentence in its context.")
        else:
            sample = f", a seeded sample of {self.limit} (seed {self.seed})" if self.limit else ""
            how = f"{self.n_evaluated} evaluated{sample}. Each sentence is scored without context."
        lines = [
            f"# External set: {self.name}", "",
            f"`{self.path}`: {self.n_rows} rows, {self.n_duplicates} duplicate texts "
            f"{'counted once' if self.context else 'dropped'}, {how}", "",
            "## Predicted labels by source label (fraction of the group)", "",
            "| source label | n | " + " | ".join(shorts) + " |", "|---|---:|" + "---:|" * len(shorts),
        ]
        for group, row in self.distribution.items():
            cells = " | ".join(fmt(row[label]) for label in LABELS)
            lines.append(f"| {group} | {row['n']} | {cells} |")
        if self.binary:
            b = self.binary
            lines += [
                "", f"## {' ∪ '.join(b['positive'])} vs {' ∪ '.join(b['negative'])}, "
                f"predicted as {' ∪ '.join(b['score_labels'])}", "",
                "| precision | recall | F1 | AUROC (summed probability) | positives | negatives |",
                "|---:|---:|---:|---:|---:|---:|",
                f"| {fmt(b['precision'])} | {fmt(b['recall'])} | {fmt(b['f1'])} | {fmt(b['auroc'])} "
                f"| {b['n_positive']} | {b['n_negative']} |",
            ]
        if self.silver:
            s = self.silver
            lines += [
                "", f"## Silver labels ({s['n']} rows with a mapped label; not gold)", "",
                f"Accuracy {fmt(s['accuracy'])}; macro-F1 over the labels the mapping gives "
                f"({', '.join(s['labels'])}): {fmt(s['macro_f1'])}.", "",
                "| label | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|",
            ]
            for label, m in s["per_label"].items():
                lines.append(f"| {label} | {fmt(m['precision'])} | {fmt(m['recall'])} | {fmt(m['f1'])} "
                             f"| {m['support']} |")
            lines += ["", *confusion_table(s["confusion"], LABELS, "silver \\ predicted")]
        if self.attribution:
            a = self.attribution
            lines += [
                "", f"## Attribution against the set's own source and cue spans ({a['n']} sentences with one "
                "speech attribution; not our spans)", "",
                "| sources | n | flagged | cue exact | speaker found in the source |",
                "|---|---:|---:|---:|---:|",
            ]
            for group in ("all", "named in the sentence"):
                g = a[group]
                lines.append(f"| {group} | {g['n']} | {fmt(g['flagged'])} | {fmt(g['cue_exact'])} "
                             f"| {fmt(g['speaker_in_source'])} |")
            lines += ["", "'flagged': labelled attributed_quote or unverifiable_expert_claim. The set's source "
                      "span holds the speaker and its role together, so the speaker counts as found when its "
                      "words run, in order, inside it. 'named in the sentence' leaves out pronoun sources "
                      "('he said'), which we name from the sentences before."]
        lines += ["", f"Caveat: {self.caveat}"]
        return "\n".join(lines) + "\n"


def resolve_path(name: str, path: str | os.PathLike) -> Path:
    """The file for ``name``: ``path`` itself, or the set's file inside ``path`` when it is a folder."""
    if name not in EXTERNAL_SETS:
        raise ValueError(f"unknown external set {name!r}; expected one of {sorted(EXTERNAL_SETS)}")
    path = Path(path)
    if path.is_dir():
        path = path / EXTERNAL_SETS[name].filename
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no such file; pass the converted file ({EXTERNAL_SETS[name].filename}) or its folder"
        )
    return path


def read_external(path: str | os.PathLike) -> list[dict]:
    """Rows of a converted file (``text``, ``source_label``, ``mapped_label``, ``id``), checked."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, row in json_objects(f, str(path), ValueError):
            missing = [k for k in ("text", "source_label", "mapped_label") if k not in row]
            if missing:
                raise ValueError(
                    f"{path}:{n}: missing field(s) {missing}; external files need text, source_label, "
                    f"mapped_label (see shared/external/README.md)"
                )
            if row["mapped_label"] is not None and row["mapped_label"] not in LABELS:
                raise ValueError(
                    f"{path}:{n}: mapped_label {row['mapped_label']!r} is not one of {list(LABELS)} or null"
                )
            row.setdefault("id", f"row-{n}")
            rows.append(row)
    return rows


def source_group(name: str, row: dict) -> str:
    """The group a row is reported under: its source class, or its mapped label for silver sets."""
    if EXTERNAL_SETS[name].silver:
        return row["mapped_label"] or "null"
    # Szeged's "uncertain:<cue types>" and similar are grouped by the part before the colon.
    return row["source_label"].split(":")[0]


def _text_key(row: dict) -> str:
    """A row's text with its whitespace normalised: what makes two rows the same sentence."""
    return " ".join(row["text"].split())


def select_rows(rows: Sequence[dict], limit: int | None, seed: int) -> tuple[list[dict], int]:
    """Drop repeated texts (first wins) and empty ones, then a seeded sample of ``limit`` rows.

    Returns the rows and how many duplicates were dropped.

    >>> rows = [{"text": t} for t in ["a", "b", "a", "c"]]
    >>> kept, dropped = select_rows(rows, limit=2, seed=0)
    >>> len(kept), dropped
    (2, 1)
    """
    seen: set[str] = set()
    unique = []
    for row in rows:
        key = _text_key(row)
        if key and key not in seen:
            seen.add(key)
            unique.append(row)
    dropped = sum(1 for row in rows if row["text"].strip()) - len(unique)
    if limit is not None and limit < len(unique):
        keep = np.sort(np.random.default_rng(seed).choice(len(unique), size=limit, replace=False))
        unique = [unique[k] for k in keep]
    return unique, dropped


def has_documents(rows: Sequence[dict]) -> bool:
    """Whether every row says which document it belongs to and where (``doc`` and ``i``)."""
    return bool(rows) and all("doc" in row and isinstance(row.get("i"), int) for row in rows)


def select_documents(rows: Sequence[dict], limit: int | None, seed: int) -> tuple[list[list[dict]], int]:
    """Whole documents, each in order, and a ``scored`` flag on every row; a seeded sample of
    documents until ``limit`` scored rows are reached (the last document is kept whole).

    A row is scored unless it is empty or its text was seen earlier, in this document or one
    before it in file order: a reprinted wire story is then context, not a second vote. Returns
    the documents (their rows as copies) and how many non-empty rows were left unscored.

    >>> rows = [{"doc": d, "i": i, "text": t} for d, i, t in
    ...         [("a", 0, "One."), ("a", 1, "Two."), ("b", 1, "Three."), ("b", 0, "One.")]]
    >>> docs, repeated = select_documents(rows, None, 0)
    >>> [[(r["text"], r["scored"]) for r in d] for d in docs], repeated
    ([[('One.', True), ('Two.', True)], [('One.', False), ('Three.', True)]], 1)
    """
    by_doc: dict[str, list[dict]] = {}
    for row in rows:
        by_doc.setdefault(str(row["doc"]), []).append(row)
    seen: set[str] = set()
    docs, repeated = [], 0
    for doc_rows in by_doc.values():
        ordered = []
        for row in sorted(doc_rows, key=lambda r: r["i"]):
            key = _text_key(row)
            if not key:
                continue
            repeated += key in seen
            ordered.append({**row, "scored": key not in seen})
            seen.add(key)
        if ordered:
            docs.append(ordered)
    if limit is not None:
        order = np.random.default_rng(seed).permutation(len(docs))
        kept, n = [], 0
        for k in order:
            if n >= limit:
                break
            kept.append(k)
            n += sum(r["scored"] for r in docs[k])
        docs = [docs[k] for k in sorted(kept)]
    return docs, repeated


def _distribution(groups: Sequence[str], predicted: Sequence[str]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for group in sorted(set(groups)):
        counts = Counter(p for g, p in zip(groups, predicted, strict=True) if g == group)
        n = sum(counts.values())
        out[group] = {"n": n, **{label: counts[label] / n for label in LABELS}}
    return out


def _binary(spec: ExternalSet, groups: Sequence[str], predictions: Sequence[dict]) -> dict | None:
    idx = [k for k, g in enumerate(groups) if g in spec.positive or g in spec.negative]
    if not idx:
        return None
    truth = [groups[k] in spec.positive for k in idx]
    columns = [LABELS.index(label) for label in spec.score_labels]
    score = [sum(predictions[k]["scores"][c] for c in columns) for k in idx]
    flagged = [predictions[k]["label"] in spec.score_labels for k in idx]
    return {
        "positive": list(spec.positive), "negative": list(spec.negative),
        "score_labels": list(spec.score_labels),
        **metrics.binary_prf(truth, flagged), "auroc": metrics.auroc(truth, score),
    }


def _silver(records: Sequence[dict], predictions: Sequence[dict]) -> dict | None:
    pairs = [(r["label"], p["label"]) for r, p in zip(records, predictions, strict=True) if r["label"]]
    if not pairs:
        return None
    gold, pred = [g for g, _ in pairs], [p for _, p in pairs]
    # Macro-F1 only over labels the mapping can produce: a label it never gives has no silver
    # positives, and its F1 of 0 would measure the mapping, not the model.
    present = [label for label in LABELS if label in set(gold)]
    return {
        "n": len(pairs), "labels": present,
        "accuracy": metrics.accuracy(gold, pred),
        "macro_f1": metrics.macro_f1(gold, pred, labels=present),
        "per_label": metrics.per_label(gold, pred),
        "confusion": metrics.confusion(gold, pred).tolist(),
    }


_ATTRIBUTION = re.compile(r"^(?:headline; )?attribution\[cue=(?P<cue>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"); "
                          r"source=(?P<source>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")\]$")
# The pronouns the detector names from earlier sentences, and the two PolNeAR also marks as a
# source: a relative "who" and an addressed "you".
_PRONOUNS = frozenset(PRONOUNS | {"you", "who"})


def _words(text: str | None) -> list[str]:
    return re.findall(r"\w+", (text or "").lower())


def _inside(part: list[str], whole: list[str]) -> bool:
    return bool(part) and any(whole[k:k + len(part)] == part for k in range(len(whole) - len(part) + 1))


def _span_attribution(rows: Sequence[dict], predictions: Sequence[dict]) -> dict | None:
    """Cue and speaker against the set's source and cue spans, on sentences holding one speech
    attribution (``attribution[cue=...; source=...]`` with no ``+N more``) mapped to a label of ours.

    >>> rows = [{"source_label": "attribution[cue='said'; source='Ann Lee, the mayor']",
    ...          "mapped_label": "attributed_quote"}]
    >>> preds = [{"label": "attributed_quote", "speaker": "Ann Lee", "cue": "said"}]
    >>> _span_attribution(rows, preds)["all"]
    {'n': 1, 'flagged': 1.0, 'cue_exact': 1.0, 'speaker_in_source': 1.0}
    """
    found = []
    for row, pred in zip(rows, predictions, strict=True):
        m = _ATTRIBUTION.match(row["source_label"])
        if m and row["mapped_label"] in _ATTRIBUTED:
            cue, source = (ast.literal_eval(m.group(k)) for k in ("cue", "source"))
            found.append((_words(cue), _words(source), pred))
    if not found:
        return None

    def score(items: list) -> dict:
        n = len(items)
        return {
            "n": n,
            "flagged": sum(p["label"] in _ATTRIBUTED for _, _, p in items) / n if n else None,
            "cue_exact": sum(bool(c) and _words(p.get("cue")) == c for c, _, p in items) / n if n else None,
            "speaker_in_source": sum(_inside(_words(p.get("speaker")), s) for _, s, p in items) / n if n else None,
        }

    named = [item for item in found if item[1] and " ".join(item[1]) not in _PRONOUNS]
    return {"n": len(found), "all": score(found), "named in the sentence": score(named)}


def eval_external(
    name: str, path: str | os.PathLike, predictor: Predictor, limit: int | None = None, *, seed: int = 0,
    context: bool | None = None,
) -> ExternalReport:
    """Score a predictor on one external set; ``limit`` takes a fixed seeded sample for speed.

    ``path`` is the converted file or the folder holding it (``shared/external``). ``context``:
    score whole documents in order (the default for sets of articles whose rows have ``doc`` and
    ``i``), or each sentence alone (``False``, and the default for the rest).

    >>> import json, os, tempfile
    >>> from claimsift.eval.baselines import LexiconBaseline
    >>> path = os.path.join(tempfile.mkdtemp(), "subj.jsonl")
    >>> rows = [{"text": "It may be a gamble.", "source_label": "SUBJ", "mapped_label": "speculation"},
    ...         {"text": "The bill passed.", "source_label": "OBJ", "mapped_label": None}]
    >>> _ = open(path, "w").write("".join(json.dumps(r) + "\\n" for r in rows))
    >>> eval_external("checkthat_subjectivity", path, LexiconBaseline()).binary["f1"]
    1.0
    """
    file = resolve_path(name, path)
    spec = EXTERNAL_SETS[name]
    rows = read_external(file)
    documents = has_documents(rows)
    if context and not documents:
        raise ValueError(f"{file}: rows carry no 'doc' and 'i', so they cannot be scored in context; "
                         "score them one at a time (context=False, or leave it unset)")
    context = documents and spec.articles if context is None else context
    if context:
        docs, dropped = select_documents(rows, limit, seed)
        ordered = [(f"{name}:{doc[0]['doc']}", k, row) for doc in docs for k, row in enumerate(doc)]
    else:
        alone, dropped = select_rows(rows, limit, seed)
        ordered = [(f"{name}:{row['id']}", 0, {**row, "scored": True}) for row in alone]
    if not ordered:
        raise ValueError(f"{file}: no non-empty texts to evaluate")
    records = [
        normalise({"doc": doc, "i": i, "text": row["text"], "label": row["mapped_label"]},
                  f"{file} id {row['id']}", allow_null_label=True)
        for doc, i, row in ordered
    ]
    logger.info("%s: predicting %d sentences", name, len(records))
    predictions = predict(predictor, records)
    scored = [k for k, (_, _, row) in enumerate(ordered) if row["scored"]]
    selected = [ordered[k][2] for k in scored]
    records, predictions = [records[k] for k in scored], [predictions[k] for k in scored]
    groups = [source_group(name, row) for row in selected]
    return ExternalReport(
        name=name, path=str(file), n_rows=len(rows), n_duplicates=dropped, n_evaluated=len(records),
        limit=limit, seed=seed, context=context, n_documents=len({doc for doc, _, _ in ordered}),
        distribution=_distribution(groups, [p["label"] for p in predictions]),
        binary=None if spec.silver else _binary(spec, groups, predictions),
        silver=_silver(records, predictions) if spec.silver else None,
        attribution=_span_attribution(selected, predictions) if spec.spans else None,
        caveat=spec.caveat,
    )
