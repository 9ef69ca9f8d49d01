"""``claimsift data build | validate | stats``: the corpus file, its checks and its counts.

>>> problems = check_records([{"doc": "a-1", "i": 0, "text": "Hi.", "label": "no_claim", "split": "train",
...     "spans": {"speaker": None, "role": None, "cue": None}}])
>>> problems
[]
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from claimsift.data.corpus import CORPUS_FILE, CORPUS_SRC, build_corpus, corpus_split, load_records
from claimsift.data.samples import SampleError, read_samples, write_jsonl
from claimsift.model.attribution import is_pronoun
from claimsift.model.labels import LABELS, SPAN_KINDS


def resolve_pronoun_speakers(records: list[dict]) -> list[dict]:
    """Continuation and pronoun speakers name the person: ``she`` becomes the last speaker named."""
    last: str | None = None
    doc = None
    for r in records:
        if r["doc"] != doc:
            doc, last = r["doc"], None
        speaker = r.get("speaker")
        if speaker and is_pronoun(speaker):
            if last:
                r["speaker"], r["speaker_in_context"] = last, True
                r["spans"]["speaker"] = None
        elif speaker:
            last = speaker
    return records


def build(src: Path | None = None, out: Path = CORPUS_FILE) -> int:
    """Parse the authoring files into ``corpus.jsonl`` (spans computed, splits assigned)."""
    records = resolve_pronoun_speakers(build_corpus(src or CORPUS_SRC))
    write_jsonl(records, out)
    print(f"{out}: {len({r['doc'] for r in records})} documents, {len(records)} sentences")
    return validate()


def check_records(records: list[dict]) -> list[str]:
    """Every problem found: labels, offsets, splits by document, duplicates, attribution fields."""
    problems = []
    doc_split: dict[str, str] = {}
    seen_text: dict[str, str] = {}
    for r in records:
        where = f"{r['doc']}#{r['i']}"
        if r["label"] not in LABELS:
            problems.append(f"{where}: unknown label {r['label']!r}")
        split = r.get("split")
        if doc_split.setdefault(r["doc"], split) != split:
            problems.append(f"{where}: document appears in splits {doc_split[r['doc']]} and {split}")
        if split != corpus_split(r["doc"]):
            problems.append(f"{where}: split {split} is not the fixed split {corpus_split(r['doc'])}")
        for kind in SPAN_KINDS:
            span = (r.get("spans") or {}).get(kind)
            if span is None:
                continue
            s, e = span
            if not (0 <= s < e <= len(r["text"])) or r["text"][s:e] != r.get(kind):
                problems.append(f"{where}: {kind} span {span} does not match {r.get(kind)!r}")
        has_attr = r["label"] in ("attributed_quote", "unverifiable_expert_claim")
        if has_attr and r.get("named") is None:
            problems.append(f"{where}: {r['label']} without named")
        if not has_attr and any(r.get(k) for k in SPAN_KINDS):
            problems.append(f"{where}: {r['label']} carries attribution fields")
        key = re.sub(r"\W+", " ", r["text"].lower()).strip()
        if len(key) > 40 and r["label"] != "no_claim":  # shared boilerplate is real; shared claims are not
            if key in seen_text and seen_text[key] != r["doc"]:
                problems.append(f"{where}: duplicate of a sentence in {seen_text[key]}")
            seen_text.setdefault(key, r["doc"])
    order = defaultdict(list)
    for r in records:
        order[r["doc"]].append(r["i"])
    for doc, idx in order.items():
        if idx != list(range(len(idx))):
            problems.append(f"{doc}: sentence indices are not 0..n-1 in order")
    return problems


def validate(path: Path = CORPUS_FILE, wikinews: Path | None = None) -> int:
    """Check the corpus (and optionally the Wikinews file against it); print problems; 0 if none."""
    try:
        records = read_samples(path)
    except SampleError as e:
        print(f"invalid: {e}", file=sys.stderr)
        return 1
    problems = check_records(records)
    if wikinews is not None:
        wiki = {re.sub(r"\W+", " ", r["text"].lower()).strip() for r in read_samples(wikinews)}
        problems += [f"{r['doc']}#{r['i']}: also in Wikinews" for r in records
                     if len(r["text"]) > 40 and re.sub(r"\W+", " ", r["text"].lower()).strip() in wiki]
    for p in problems[:50]:
        print(p, file=sys.stderr)
    counts = Counter(r["label"] for r in records)
    print(f"{path}: {len({r['doc'] for r in records})} documents, {len(records)} sentences, "
          f"{len(problems)} problem(s); " + ", ".join(f"{k} {counts[k]}" for k in LABELS))
    return 1 if problems else 0


def stats_markdown(records: list[dict]) -> str:
    """Count tables (label by split, beat, style, variant; rules in the hard split) as markdown."""
    out = []
    for field in ("split", "beat", "style", "variant"):
        table: dict[str, Counter] = defaultdict(Counter)
        docs: dict[str, set] = defaultdict(set)
        for r in records:
            table[r.get(field) or "-"][r["label"]] += 1
            docs[r.get(field) or "-"].add(r["doc"])
        out.append(f"\n### By {field}\n\n| {field} | docs | sentences | " + " | ".join(LABELS) + " |")
        out.append("|" + "---|" * (3 + len(LABELS)))
        for key in sorted(table):
            c = table[key]
            out.append(f"| {key} | {len(docs[key])} | {sum(c.values())} | "
                       + " | ".join(str(c[lab]) for lab in LABELS) + " |")
        total = Counter(r["label"] for r in records)
        if field == "split":
            out.append(f"| **all** | {len({r['doc'] for r in records})} | {len(records)} | "
                       + " | ".join(f"{total[lab]} ({total[lab] / len(records):.1%})" for lab in LABELS) + " |")
    rules = Counter(rule for r in records for rule in r.get("rules") or [])
    tagged = sum(1 for r in records if r.get("rules"))
    out.append(f"\n### Hard-case rules\n\n{tagged} sentences carry a rule tag "
               f"({sum(1 for r in records if r.get('rules') and r.get('split') == 'hard')} in the hard split).\n")
    out.append("| rule | " + " | ".join(str(k) for k in range(15)) + " |")
    out.append("|" + "---|" * 16)
    out.append("| sentences | " + " | ".join(str(rules[k]) for k in range(15)) + " |")
    return "\n".join(out) + "\n"


START, END = "<!-- stats:start -->", "<!-- stats:end -->"


def stats(path: Path = CORPUS_FILE, write: Path | None = None) -> int:
    """Print the count tables, or write them between the stats markers of ``write`` (the datasheet)."""
    tables = stats_markdown(load_records(path=path))
    if write is None:
        print(tables)
        return 0
    doc = write.read_text(encoding="utf-8")
    if START not in doc or END not in doc:
        print(f"{write}: no {START} ... {END} markers to write the tables between", file=sys.stderr)
        return 1
    head, rest = doc.split(START, 1)
    write.write_text(head + START + "\n" + tables + END + rest.split(END, 1)[1], encoding="utf-8")
    print(f"{write}: count tables updated")
    return 0
