"""Read and write annotated-sample files (JSON Lines, one sentence per line).

The minimal form has eight fields: ``doc, i, text, label, speaker, role, cue, named``.
The full form adds ``spans`` (character offsets of speaker, role and cue into ``text``),
``speaker_in_context`` and metadata (``split``, ``beat``, ``style``, ``rules``, ``para``).
Minimal files are completed here: spans are found by substring search.

>>> import json, tempfile, os
>>> p = os.path.join(tempfile.mkdtemp(), "s.jsonl")
>>> _ = open(p, "w").write(json.dumps({"doc": "d", "i": 0, "text": "Ann said so.", "label": "attributed_quote",
...     "speaker": "Ann", "role": None, "cue": "said", "named": True}) + "\\n")
>>> read_samples(p)[0]["spans"]
{'speaker': [0, 3], 'role': None, 'cue': [4, 8]}
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from claimsift.model.jsonl import json_objects
from claimsift.model.labels import LABELS, SPAN_KINDS

REQUIRED = ("doc", "i", "text", "label")
OPTIONAL_NULLABLE = ("speaker", "role", "cue", "named")


class SampleError(ValueError):
    """An annotated-sample file that does not follow the format."""


def _find_span(text: str, value: str | None) -> list[int] | None:
    if not value:
        return None
    start = text.find(value)
    return None if start < 0 else [start, start + len(value)]


def normalise(record: dict, where: str = "<record>", *, allow_null_label: bool = False) -> dict:
    """Check one record and fill the optional fields; returns a new dict."""
    missing = [k for k in REQUIRED if k not in record]
    if missing:
        raise SampleError(f"{where}: missing field(s) {missing}; each line needs {list(REQUIRED)}")
    label = record["label"]
    if label is None and not allow_null_label:
        raise SampleError(f"{where}: label is null; null labels are allowed only in --extra-train files")
    if label is not None and label not in LABELS:
        raise SampleError(f"{where}: unknown label {label!r}; expected one of {list(LABELS)}")
    if not isinstance(record["text"], str) or not isinstance(record["i"], int):
        raise SampleError(f"{where}: 'text' must be a string and 'i' an integer")
    out = dict(record)
    out["doc"] = str(record["doc"])
    for key in OPTIONAL_NULLABLE:
        out.setdefault(key, None)
    spans = dict(out.get("spans") or {})
    ctx = out.get("speaker_in_context")
    for kind in SPAN_KINDS:
        if kind not in spans:
            found = _find_span(out["text"], out.get(kind))
            spans[kind] = found
        span = spans[kind]
        if span is not None and not (0 <= span[0] < span[1] <= len(out["text"])):
            raise SampleError(f"{where}: {kind} span {span} lies outside the sentence")
    if ctx is None and out.get("speaker") and spans["speaker"] is None:
        ctx = True
    out["spans"] = spans
    out["speaker_in_context"] = ctx
    return out


def read_samples(path: str | os.PathLike, *, allow_null_label: bool = False) -> list[dict]:
    """Read an annotated-sample file; records come back sorted by (doc order of first sight, i)."""
    path = Path(path)
    records = []
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise SampleError(f"{path}: cannot read ({e}); expected a UTF-8 JSON Lines file") from e
    for n, rec in json_objects(lines, str(path), SampleError):
        records.append(normalise(rec, f"{path}:{n}", allow_null_label=allow_null_label))
    order = {d: k for k, d in enumerate(dict.fromkeys(r["doc"] for r in records))}
    return sorted(records, key=lambda r: (order[r["doc"]], r["i"]))


def group_documents(records: Iterable[dict]) -> dict[str, list[dict]]:
    """Group records by document, keeping document and sentence order."""
    docs: dict[str, list[dict]] = {}
    for r in records:
        docs.setdefault(r["doc"], []).append(r)
    for sentences in docs.values():
        sentences.sort(key=lambda r: r["i"])
    return docs


def write_jsonl(records: Iterable[dict], path: str | os.PathLike) -> None:
    """Write records atomically: a temporary file renamed into place, never a truncated file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
