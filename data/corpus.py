"""The project's annotated corpus and the Wikinews set, as ``datasets.DatasetDict``.

Splits are by document and fixed: a document's split is a hash of its id, written
into ``data/corpus/corpus.jsonl`` by ``claimsift data build``; documents written as
the hard-case set (ids ``h-*``) form their own ``hard`` split.

>>> ds = load_corpus()                       # doctest: +SKIP
>>> sorted(ds)                               # doctest: +SKIP
['dev', 'hard', 'test', 'train']
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from claimsift.data.authoring import parse_text
from claimsift.data.samples import read_samples

DATA_DIR = Path(__file__).resolve().parent
CORPUS_SRC = DATA_DIR / "corpus" / "src"
CORPUS_FILE = DATA_DIR / "corpus" / "corpus.jsonl"
# Wikinews is read from the shared folder beside the checkout and never committed.
DEFAULT_WIKINEWS = Path("../shared/wikinews/annotated.jsonl")
CORPUS_SPLITS = ("train", "dev", "test", "hard")
WIKINEWS_SPLITS = ("wikinews_train", "wikinews_dev")


def _bucket(doc_id: str) -> int:
    return int(hashlib.sha1(doc_id.encode("utf-8")).hexdigest(), 16) % 100


def corpus_split(doc_id: str) -> str:
    """The fixed split of a corpus document: ``hard`` for h-*, else 70/15/15 by hash."""
    if doc_id.startswith("h-"):
        return "hard"
    b = _bucket(doc_id)
    return "train" if b < 70 else "dev" if b < 85 else "test"


def wikinews_split(doc_id: str) -> str:
    """Wikinews articles: 80% train, 20% dev, by hash of the article id."""
    return "wikinews_train" if _bucket(doc_id) < 80 else "wikinews_dev"


def build_corpus(src_dir: str | os.PathLike = CORPUS_SRC) -> list[dict]:
    """Parse every authoring file under ``src_dir`` into sample records with splits."""
    records = []
    for path in sorted(Path(src_dir).glob("*.txt")):
        for rec in parse_text(path.read_text(encoding="utf-8"), str(path.name)):
            rec["split"] = corpus_split(rec["doc"])
            rec["source"] = path.name
            records.append(rec)
    return records


def load_records(split: str | None = None, path: str | os.PathLike = CORPUS_FILE) -> list[dict]:
    """Corpus records (all, or one split) as plain dicts in document order."""
    records = read_samples(path)
    return [r for r in records if split is None or r.get("split") == split]


def load_wikinews(path: str | os.PathLike = DEFAULT_WIKINEWS) -> list[dict]:
    """The Wikinews annotated sentences with a ``split`` field (train/dev by article)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: Wikinews annotations not found; pass the path to shared/wikinews/annotated.jsonl"
        )
    records = read_samples(path)
    for r in records:
        r["split"] = wikinews_split(r["doc"])
        r.setdefault("style", "wikinews")
    return records


_COLUMNS = ("doc", "i", "text", "label", "speaker", "role", "cue", "named", "speaker_in_context", "split")


def to_dataset_dict(records: list[dict]):
    """Group records by their ``split`` field into a ``datasets.DatasetDict``."""
    from datasets import Dataset, DatasetDict

    by_split: dict[str, list[dict]] = {}
    for r in records:
        row = {k: r.get(k) for k in _COLUMNS}
        spans = r.get("spans") or {}
        for kind in ("speaker", "role", "cue"):
            span = spans.get(kind)
            row[f"{kind}_start"] = span[0] if span else -1
            row[f"{kind}_end"] = span[1] if span else -1
        by_split.setdefault(r["split"], []).append(row)
    return DatasetDict({name: Dataset.from_list(rows) for name, rows in by_split.items()})


def load_corpus(path: str | os.PathLike = CORPUS_FILE, wikinews: str | os.PathLike | None = None):
    """The corpus (train/dev/test/hard), plus Wikinews splits when ``wikinews`` is a path.

    Span offsets become ``<kind>_start``/``<kind>_end`` columns (-1 where absent), so every
    split has the same flat schema.
    """
    records = load_records(path=path)
    if wikinews is not None:
        records += load_wikinews(wikinews)
    return to_dataset_dict(records)
