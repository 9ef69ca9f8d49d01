"""Batch scoring of files for the CLI: streaming, per-file errors, atomic and resumable output.

Output is written to ``FILE.partial`` and renamed to ``FILE`` only when the run completes, so an
interrupted run never leaves a file that looks complete. JSONL records are written one whole
document at a time; ``resume`` keeps the complete documents of a ``.partial`` file and scores
only the rest.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from claimsift.model.detector import flat_row
from claimsift.model.readers import Document, InputError, read_document

logger = logging.getLogger(__name__)


@dataclass
class BatchOutcome:
    """What happened to each input: scored documents and per-file errors."""

    scored: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def iter_documents(inputs: list, outcome: BatchOutcome, *, max_bytes: int, english_only: bool,
                   stdin_text: str | None = None) -> Iterator[Document]:
    """Documents from paths (``-`` is stdin); unreadable inputs are recorded, not raised."""
    for item in inputs:
        if item == "-":
            text = stdin_text if stdin_text is not None else sys.stdin.read()
            if not text.strip():
                outcome.errors.append("-: empty input on stdin; nothing to score")
                continue
            yield Document("-", text)
            continue
        try:
            yield from read_document(Path(item), max_bytes=max_bytes, english_only=english_only)
        except InputError as e:
            outcome.errors.append(str(e))


def json_lines(doc: Document, results) -> str:
    """The JSONL lines of one scored document (one line per sentence)."""
    lines = []
    for r in results:
        d = r.to_dict()
        lines.append(json.dumps({
            "doc": doc.id, "index": r.index, "n": len(results), "start": r.start, "end": r.end, "text": r.text,
            "label": r.label, "confidence": r.confidence, "scores": r.scores, "attribution": d["attribution"],
            "verify": d["verify"],
        }, ensure_ascii=False))
    return "".join(line + "\n" for line in lines)


def completed_documents(partial: Path) -> set[str]:
    """Docs fully present in a partial JSONL file; the file is cut back to those docs."""
    if not partial.exists():
        return set()
    keep, counts, need = [], {}, {}
    for line in partial.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True):
        if not line.endswith("\n"):
            break  # a line cut off by the interruption
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            break
        keep.append((rec["doc"], line))
        counts[rec["doc"]] = counts.get(rec["doc"], 0) + 1
        need[rec["doc"]] = rec["n"]
    done = {d for d, c in counts.items() if c == need[d]}
    atomic_write(partial, "".join(line for d, line in keep if d in done))
    return done


def atomic_write(path: Path, text: str, tmp: Path | None = None) -> None:
    """Write ``text`` to ``tmp`` (``path`` + ``.tmp`` unless given), flushed to disk, then rename it to ``path``."""
    tmp = tmp or path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def partial_of(output: Path) -> Path:
    """Where :func:`score_to_jsonl` writes ``output`` until the run ends (then renamed to it)."""
    return output.with_name(output.name + ".partial")


def score_to_jsonl(det, docs: Iterator[Document], output: Path | None, outcome: BatchOutcome, *,
                   resume: bool, chunk_sentences: int = 2000, progress=None, done: set[str] | None = None) -> None:
    """Stream scored documents as JSONL to ``output`` (via ``.partial``) or stdout.

    With ``resume`` the documents finished in the ``.partial`` file are kept and skipped: ``done``
    when the caller has read them already (:func:`completed_documents`), else read here.
    """
    partial = partial_of(output) if output else None
    if done is None:
        done = completed_documents(partial) if (partial and resume) else set()
    if partial and not resume and partial.exists():
        partial.unlink()
    sink = open(partial, "a", encoding="utf-8") if partial else sys.stdout  # noqa: SIM115
    try:
        for doc, results in _scored(det, docs, done, outcome, chunk_sentences, progress):
            sink.write(json_lines(doc, results))
            sink.flush()
            if partial:
                os.fsync(sink.fileno())
    except OSError as e:
        raise OSError(f"{output}: cannot write the output ({e.strerror}); check free space and permissions") from e
    finally:
        if partial:
            sink.close()
    if partial:
        os.replace(partial, output)


def score_all(det, docs: Iterator[Document], outcome: BatchOutcome, chunk_sentences: int = 2000,
              progress=None) -> list[tuple[Document, list]]:
    """Score everything into memory (CSV, HTML and table outputs)."""
    return list(_scored(det, docs, set(), outcome, chunk_sentences, progress))


def _scored(det, docs, done, outcome, chunk_sentences, progress):
    """Group documents into chunks of about ``chunk_sentences`` and score each chunk in one pass."""
    from claimsift.model.segment import segment

    chunk: list[tuple[Document, list]] = []
    size = 0

    def flush():
        labelled = det.label_segments([spans for _, spans in chunk])
        yield from ((doc, res) for (doc, _), res in zip(chunk, labelled, strict=True))

    for doc in docs:
        if progress is not None:
            progress.update(1)
        if doc.id in done:
            outcome.skipped += 1
            continue
        spans = segment(doc.text)
        if not spans:
            outcome.errors.append(f"{doc.id}: no sentences found; nothing to score")
            continue
        chunk.append((doc, spans))
        size += len(spans)
        outcome.scored += 1
        if size >= chunk_sentences:
            yield from flush()
            chunk, size = [], 0
    if chunk:
        yield from flush()


def rows_of(scored: list[tuple[Document, list]]) -> list[dict]:
    return [flat_row(doc.id, r) for doc, results in scored for r in results]
