"""Turn a document's sentences into encoder inputs, with context and token tags.

The target sentence is the first sequence; its neighbours (previous and next
sentence, clipped) are the second, so a quote's continuation sees its opener and a
quote's first sentence sees the "she said" that closes it.

>>> from transformers import PreTrainedTokenizerFast            # doctest: +SKIP
>>> context_pairs(["A.", "B.", "C."], "both", "[SEP]")[1]      # doctest: +SKIP
'A. [SEP] C.'
"""

from __future__ import annotations

import threading

import numpy as np
from claimsift.model.labels import SPAN_KINDS, TAGS

CONTEXT_MODES = ("none", "prev", "both")
_CONTEXT_CHARS = 120
TAG2ID = {t: i for i, t in enumerate(TAGS)}
_BACKEND_LOCK = threading.Lock()


def context_pairs(sentences: list[str], mode: str, sep: str) -> list[str | None]:
    """The second sequence for each sentence, per context ``mode``."""
    if mode == "none":
        return [None] * len(sentences)
    out: list[str | None] = []
    for k in range(len(sentences)):
        prev = sentences[k - 1][-_CONTEXT_CHARS:] if k > 0 else ""
        if mode == "prev":
            out.append(prev)
            continue
        nxt = sentences[k + 1][:_CONTEXT_CHARS] if k + 1 < len(sentences) else ""
        out.append(f"{prev} {sep} {nxt}")
    return out


def encode(tokenizer, sentences: list[str], contexts: list[str | None], max_length: int) -> dict:
    """Tokenize sentences (with their contexts) without padding; adds ``sentence_mask``.

    Keys: ``input_ids``, ``attention_mask``, ``token_type_ids`` (when the model takes them),
    ``offset_mapping`` and ``sentence_mask``, one list per sentence. A fast tokenizer is driven
    directly (its Rust batch encoder, then only the fields used here), which is what keeps
    tokenization off the critical path on a GPU; the result is what ``tokenizer(...)`` returns.
    """
    has_ctx = bool(contexts) and contexts[0] is not None
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:  # a slow (Python) tokenizer
        enc = tokenizer(sentences, contexts if has_ctx else None, truncation=True, max_length=max_length,
                        return_offsets_mapping=True)
        out = {k: enc[k] for k in ("input_ids", "attention_mask", "token_type_ids", "offset_mapping") if k in enc}
        out["sentence_mask"] = [_first_sequence(enc.sequence_ids(k)) for k in range(len(sentences))]
        return out
    with _BACKEND_LOCK:  # the truncation setting lives on the shared Rust object
        backend.no_padding()
        backend.enable_truncation(max_length, strategy="longest_first")
        encodings = backend.encode_batch(list(zip(sentences, contexts, strict=True)) if has_ctx else sentences)
    out = {"input_ids": [e.ids for e in encodings], "attention_mask": [e.attention_mask for e in encodings]}
    if "token_type_ids" in tokenizer.model_input_names:
        out["token_type_ids"] = [e.type_ids for e in encodings]
    out["offset_mapping"] = [e.offsets for e in encodings]
    out["sentence_mask"] = [_first_sequence(e.sequence_ids) for e in encodings]
    return out


def _first_sequence(sequence_ids: list[int | None]) -> list[int]:
    """1 on the tokens of the first sequence (the sentence), which are contiguous; 0 elsewhere."""
    n = sequence_ids.count(0)
    if not n:
        return [0] * len(sequence_ids)
    a = sequence_ids.index(0)
    return [0] * a + [1] * n + [0] * (len(sequence_ids) - a - n)


def collate_sorted(enc: dict, keys: tuple[str, ...], pad_id: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """Sort an encoded chunk by length and pad it into int64 arrays, one row per sentence.

    Returns ``(order, lengths, arrays)``: row ``r`` of ``arrays[k]`` is sentence ``order[r]``,
    ``lengths`` are the sorted lengths, so rows ``b:e`` need only their first ``lengths[e - 1]``
    columns. ``attention_mask`` is left out: it is ``arange(width) < length``.

    >>> order, lengths, arrays = collate_sorted({"input_ids": [[5, 6, 7], [8]]}, ("input_ids",), 0)
    >>> order.tolist(), lengths.tolist(), arrays["input_ids"].tolist()
    ([1, 0], [1, 3], [[8, 0, 0], [5, 6, 7]])
    """
    ids = enc["input_ids"]
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    order = np.argsort(lengths, kind="stable")
    width = int(lengths.max(initial=0))
    arrays = {}
    for key in keys:
        out = np.full((len(ids), width), pad_id if key == "input_ids" else 0, dtype=np.int64)
        rows = enc[key]
        for r, i in enumerate(order.tolist()):
            out[r, :lengths[i]] = rows[i]
        arrays[key] = out
    return order, lengths[order], arrays


def tag_ids(offsets: list[tuple[int, int]], sentence_mask: list[int], spans: dict) -> list[int]:
    """BIO tag ids per token from character spans of speaker/role/cue (-100 off the sentence)."""
    tags = [-100 if not m else TAG2ID["O"] for m in sentence_mask]
    for kind in SPAN_KINDS:
        span = spans.get(kind) if spans else None
        if not span:
            continue
        s, e = span
        inside = False
        for t, ((a, b), m) in enumerate(zip(offsets, sentence_mask, strict=True)):
            if not m or b <= a:
                continue
            if a < e and b > s:  # the token overlaps the span
                tags[t] = TAG2ID[("I-" if inside else "B-") + kind]
                inside = True
            elif inside:
                break
    return tags
