"""Read drafts from files: ``.txt``, ``.md``, ``.html``, ``.docx``, ``.jsonl`` of ``{"id", "text"}``.

Every problem is an :class:`InputError` whose message names the file and the fix, so a
batch can report it and go on with the other files.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "draft.txt"
>>> _ = p.write_text("Markets fell on Monday.")
>>> read_document(p)[0].text
'Markets fell on Monday.'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from claimsift.model.jsonl import json_objects

SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx", ".jsonl")
DEFAULT_MAX_BYTES = 10_000_000
_FUNCTION_WORDS = {
    "the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "was", "on", "with", "as", "he", "she",
    "be", "by", "at", "are", "this", "said", "from", "have", "has", "but", "not", "an", "they", "his",
}
# Function words of the commonest other languages of European news (none is an English word).
_FOREIGN_WORDS = {
    "le", "la", "les", "des", "et", "une", "est", "du", "dans", "pour", "qui", "pas", "sur", "der", "die", "und",
    "das", "ist", "nicht", "mit", "den", "von", "el", "los", "las", "que", "por", "una", "del", "para", "con",
    "il", "di", "che", "della", "sono", "het", "een", "niet", "voor", "og", "och", "att", "não", "os",
}


class InputError(ValueError):
    """A draft that cannot be scored; the message names the file and the fix."""


@dataclass(frozen=True)
class Document:
    """One draft: ``id`` names it in reports (the path, or path#id for JSONL lines)."""

    id: str
    text: str


def _decode(path: Path, raw: bytes) -> str:
    if b"\x00" in raw[:8192] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{path}: looks like a binary file (NUL bytes); give a text, HTML, DOCX or JSONL draft")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as e:
            raise InputError(f"{path}: broken UTF-16 ({e.reason}); re-save it as UTF-8") from e
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(
            f"{path}: not valid UTF-8 (byte {raw[e.start]:#04x} at offset {e.start}); re-save it as UTF-8, "
            f"e.g. iconv -f cp1252 -t utf-8 '{path}' > fixed.txt"
        ) from e


def _html_text(raw: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    # Block elements become lines so headings and list items stay separate sentences.
    text = soup.get_text("\n")
    return re.sub(r"\n\s*\n+", "\n\n", re.sub(r"[ \t]+\n", "\n", text)).strip()


def _docx_text(path: Path) -> str:
    import zipfile

    try:
        import docx
    except ImportError as e:
        raise InputError(f"{path}: reading .docx needs python-docx (pip install python-docx)") from e
    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise InputError(f"{path}: unreadable .docx ({e}); open and re-save it in Word, or export as .txt") from e
    except Exception as e:  # python-docx raises assorted lxml/opc errors on corrupt parts
        if type(e).__module__.startswith(("docx", "lxml")):
            raise InputError(f"{path}: unreadable .docx ({e}); re-save it or export as .txt") from e
        raise
    return "\n\n".join(p.text for p in document.paragraphs if p.text.strip())


def looks_english(text: str) -> bool:
    """False for texts of 40+ words where English function words are rare."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    if len(words) < 40:
        return True
    english = sum(w in _FUNCTION_WORDS for w in words) / len(words)
    foreign = sum(w in _FOREIGN_WORDS for w in words) / len(words)
    return english >= 0.08 and foreign < english


def _check_text(path: str, text: str, english_only: bool) -> str:
    if not text.strip():
        raise InputError(f"{path}: empty draft; nothing to score")
    if english_only and not looks_english(text):
        raise InputError(
            f"{path}: does not look like English; claimsift is trained on English news only "
            "(pass --allow-non-english to score it anyway)"
        )
    return text


def read_document(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, english_only: bool = False) -> list[Document]:
    """The drafts in one file (several for ``.jsonl``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{path}: unsupported file type {suffix or '(none)'}; use one of {', '.join(SUFFIXES)}")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(
                f"{path}: {size:,} bytes is over the {max_bytes:,}-byte limit; split the file or raise "
                "--max-bytes"
            )
        if suffix == ".docx":
            return [Document(str(path), _check_text(str(path), _docx_text(path), english_only))]
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror}); check the path and its permissions") from e
    text = _decode(path, raw)
    if suffix in (".html", ".htm"):
        text = _html_text(text)
    if suffix != ".jsonl":
        return [Document(str(path), _check_text(str(path), text, english_only))]
    docs = []
    hint = '; each line must be {"id": ..., "text": ...}'
    for n, obj in json_objects(text.splitlines(), str(path), InputError, hint):
        if not isinstance(obj.get("text"), str):
            raise InputError(f"{path}:{n}: each line must be an object with a string \"text\" (and an \"id\")")
        doc_id = f"{path}#{obj.get('id', n)}"
        docs.append(Document(doc_id, _check_text(doc_id, obj["text"], english_only)))
    if not docs:
        raise InputError(f"{path}: no drafts in this JSONL file")
    return docs


def expand_paths(paths: list[str]) -> list[Path | str]:
    """Files from paths and folders (recursively, supported suffixes only, sorted); ``-`` stays as is."""
    out: list[Path | str] = []
    for p in paths:
        if p == "-":
            out.append("-")
            continue
        path = Path(p)
        if path.is_dir():
            out.extend(sorted(f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES))
        else:
            out.append(path)
    return out
