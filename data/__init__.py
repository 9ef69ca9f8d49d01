"""Annotated corpus, authoring format, sample files, loaders and validator (``claimsift.data``)."""

from claimsift.data.corpus import build_corpus, load_corpus, load_records, load_wikinews
from claimsift.data.samples import SampleError, group_documents, read_samples, write_jsonl

__all__ = [
    "SampleError", "build_corpus", "group_documents", "load_corpus", "load_records",
    "load_wikinews", "read_samples", "write_jsonl",
]
