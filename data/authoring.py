"""Parse the corpus authoring format (``data/corpus/src/*.txt``) into sentence records.

The corpus is written by hand as plain text, one sentence per line, because JSON
escaping gets in the way of writing prose. ``claimsift data build`` turns these
files into ``data/corpus/corpus.jsonl``; the character offsets of speaker, role
and cue are computed here, never typed.

Format (see data/README.md for the full description)::

    === DOC cs-a-001
    beat: politics
    style: wire
    variant: us

    NONE | Council backs bridge budget
    FACT | The city council approved a $4.2 million budget on Tuesday.
    QUOTE | "We fixed it," said Mayor Ruth Ong. | speaker=Ruth Ong | role=Mayor | cue=said | named=yes

A blank line ends a paragraph; the sentences of a paragraph are joined by one space.

Run ``python data/authoring.py check FILE...`` to check files while writing them.

>>> recs = parse_text("=== DOC d1\\nbeat: sport\\nstyle: wire\\nvariant: uk\\n\\nFACT | Leeds won 2-0.\\n")
>>> recs[0]["label"], recs[0]["text"]
('reported_fact', 'Leeds won 2-0.')
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

TAGS = {
    "FACT": "reported_fact",
    "QUOTE": "attributed_quote",
    "SPEC": "speculation",
    "EXPERT": "unverifiable_expert_claim",
    "NONE": "no_claim",
}
BEATS = {
    "politics", "international", "business", "economy", "health", "science", "climate",
    "technology", "courts", "local", "sport", "culture", "education", "energy", "transport",
    "defence", "agriculture", "media", "housing", "crime", "lifestyle",
}
STYLES = {
    "wire", "analysis", "feature", "press_release", "live_blog", "insight_post",
    "explainer", "newsletter", "opinion", "interview",
}
VARIANTS = {"uk", "us"}
ATTR_KEYS = {"speaker", "role", "cue", "named", "ctx", "rules"}
_DOC_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class FormatError(ValueError):
    """A line of an authoring file that does not follow the format."""


def _span(text: str, value: str | None, where: str) -> list[int] | None:
    if value is None:
        return None
    start = text.find(value)
    if start < 0:
        raise FormatError(f"{where}: {value!r} is not a substring of the sentence")
    return [start, start + len(value)]


def _parse_sentence(line: str, where: str) -> dict:
    parts = [p.strip() for p in line.split(" | ")]
    tag, text, fields = parts[0], parts[1] if len(parts) > 1 else "", parts[2:]
    if tag not in TAGS:
        raise FormatError(f"{where}: unknown tag {tag!r}; expected one of {sorted(TAGS)}")
    if not text:
        raise FormatError(f"{where}: empty sentence")
    attrs: dict[str, str] = {}
    for field in fields:
        key, sep, value = field.partition("=")
        if not sep or key not in ATTR_KEYS or not value:
            raise FormatError(f"{where}: bad field {field!r}; expected key=value with key in {sorted(ATTR_KEYS)}")
        attrs[key] = value
    label = TAGS[tag]
    rules = [int(r) for r in attrs.pop("rules", "").split(",") if r.strip()]
    if any(r < 0 or r > 14 for r in rules):
        raise FormatError(f"{where}: rules must be numbers 0-14")
    has_attr = label in ("attributed_quote", "unverifiable_expert_claim")
    if not has_attr and attrs:
        raise FormatError(f"{where}: {tag} sentences take no attribution fields (got {sorted(attrs)})")
    named = None
    ctx = None
    if has_attr:
        if attrs.get("named") not in ("yes", "no"):
            raise FormatError(f"{where}: {tag} needs named=yes or named=no")
        named = attrs["named"] == "yes"
        ctx = attrs.get("ctx") == "yes"
        if "ctx" in attrs and attrs["ctx"] not in ("yes", "no"):
            raise FormatError(f"{where}: ctx must be yes or no")
        if ctx and "speaker" not in attrs:
            raise FormatError(f"{where}: ctx=yes needs speaker= (the speaker named earlier)")
        if label == "attributed_quote" and "speaker" not in attrs:
            raise FormatError(f"{where}: QUOTE needs speaker= (use ctx=yes if only named earlier)")
    speaker = attrs.get("speaker")
    spans = {
        "speaker": None if ctx else _span(text, speaker, where),
        "role": _span(text, attrs.get("role"), where),
        "cue": _span(text, attrs.get("cue"), where),
    }
    return {
        "text": text, "label": label, "speaker": speaker, "role": attrs.get("role"),
        "cue": attrs.get("cue"), "named": named, "speaker_in_context": ctx, "spans": spans,
        "rules": rules,
    }


def parse_text(source: str, origin: str = "<text>") -> list[dict]:
    """Return one record per sentence, in document order, from an authoring file's text."""
    records: list[dict] = []
    doc: dict | None = None
    para = 0
    in_header = False
    seen: set[str] = set()
    for n, raw in enumerate(source.splitlines(), 1):
        where = f"{origin}:{n}"
        line = raw.rstrip()
        if line.startswith("=== DOC "):
            doc_id = line[len("=== DOC "):].strip()
            if not _DOC_ID.match(doc_id) or doc_id in seen:
                raise FormatError(f"{where}: doc id {doc_id!r} is malformed or repeated")
            seen.add(doc_id)
            doc, para, in_header = {"doc": doc_id, "i": 0}, 0, True
            continue
        if doc is None:
            if line:
                raise FormatError(f"{where}: text before the first '=== DOC' line")
            continue
        if in_header:
            key, sep, value = line.partition(":")
            if sep and key in ("beat", "style", "variant"):
                allowed = {"beat": BEATS, "style": STYLES, "variant": VARIANTS}[key]
                if value.strip() not in allowed:
                    raise FormatError(f"{where}: {key} {value.strip()!r} not in {sorted(allowed)}")
                doc[key] = value.strip()
                continue
            if not line:
                continue
            missing = {"beat", "style", "variant"} - doc.keys()
            if missing:
                raise FormatError(f"{where}: document header lacks {sorted(missing)}")
            in_header = False
        if not line:
            if records and records[-1]["doc"] == doc["doc"] and records[-1]["para"] == para:
                para += 1
            continue
        rec = _parse_sentence(line, where)
        records.append({"doc": doc["doc"], "i": doc["i"], "para": para, **rec,
                        "beat": doc["beat"], "style": doc["style"], "variant": doc["variant"]})
        doc["i"] += 1
    return records


def document_text(records: list[dict]) -> str:
    """Rebuild one document's text: sentences joined by a space, paragraphs by a blank line."""
    paras: dict[int, list[str]] = {}
    for r in records:
        paras.setdefault(r["para"], []).append(r["text"])
    return "\n\n".join(" ".join(s) for _, s in sorted(paras.items()))


def _check(paths: list[str]) -> int:
    from collections import Counter

    total: Counter = Counter()
    docs = 0
    failed = 0
    for path in paths:
        try:
            recs = parse_text(Path(path).read_text(encoding="utf-8"), path)
        except (FormatError, UnicodeDecodeError) as e:
            print(f"ERROR {e}")
            failed += 1
            continue
        docs += len({r["doc"] for r in recs})
        total.update(r["label"] for r in recs)
    n = sum(total.values())
    print(f"{docs} documents, {n} sentences")
    for label, count in total.most_common():
        print(f"  {label:28s} {count:5d}  {count / max(n, 1):.1%}")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] != "check":
        print("usage: python data/authoring.py check FILE...")
        sys.exit(2)
    sys.exit(_check(sys.argv[2:]))
