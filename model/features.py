"""Turn a document's sentences into encoder inputs, with context and token tags.

Two layouts. Pair modes (``none``, ``prev``, ``both``): one encoder row per sentence, the target
sentence as the first sequence and its neighbours (previous and next sentence, clipped) as the
second, so a quote's continuation sees its opener and a quote's first sentence sees the "she
said" that closes it. ``window``: consecutive sentences of a document share one row
(:func:`encode_windows`), each token is encoded once, and every sentence is pooled from its own
tokens; the row's other sentences, and a clipped neighbour at each edge, are its context. The
pair layout encodes each sentence about three times (itself and as two neighbours' context),
which is most of its cost on a CPU (eval/results/speed.md).

>>> from transformers import PreTrainedTokenizerFast            # doctest: +SKIP
>>> context_pairs(["A.", "B.", "C."], "both", "[SEP]")[1]      # doctest: +SKIP
'A. [SEP] C.'
"""

from __future__ import annotations

import threading

import numpy as np
from claimsift.model.labels import SPAN_KINDS, TAGS

CONTEXT_MODES = ("none", "prev", "both", "window")
_CONTEXT_CHARS = 120
# A window row's clipped neighbours, in tokens, by default. Only a row's first and last member see
# them (the others see whole sentences either side); 24 (about the pair layout's 120 characters)
# encoded 9% more tokens than 8 for no gain on real news (eval/results/window/context/).
WINDOW_CONTEXT_TOKENS = 8
TAG2ID = {t: i for i, t in enumerate(TAGS)}
_BACKEND_LOCK = threading.Lock()


def context_pairs(sentences: list[str], mode: str, sep: str) -> list[str | None]:
    """The second sequence for each sentence, per context ``mode``."""
    if mode in ("none", "window"):  # a window row carries its context itself
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


def encode_windows(tokenizer, documents: list[list[str]], max_length: int,
                   context_tokens: int = WINDOW_CONTEXT_TOKENS, offsets: bool = True) -> dict:
    """Pack each document's consecutive sentences into rows of at most ``max_length`` tokens.

    A row is ``[CLS] left members right [SEP]``: ``members`` are whole sentences (each cut to fit
    one row with both neighbours), ``left`` the last ``context_tokens`` of the sentence before the
    row, ``right`` the first ones of the sentence after it. Sentences are numbered across all
    documents in order. Keys, one list per row: ``input_ids``; ``sentence_pos`` (per token: 1 + the
    member's place in the row, 0 on special and context tokens); ``members`` (sentence numbers);
    ``spans`` (each member's token range in the row). Per sentence, unless ``offsets`` is False:
    ``offset_mapping`` (character offsets into the sentence of its kept tokens; reading them from
    the Rust encodings costs about a sixth of tokenizing, and a worker packing rows never uses them).

    >>> from transformers import AutoTokenizer                                          # doctest: +SKIP
    >>> enc = encode_windows(tok, [["One.", "Two."], ["Three."]], 64)                   # doctest: +SKIP
    >>> enc["members"], enc["spans"]                                                    # doctest: +SKIP
    ([[0, 1], [2]], [[(1, 3), (3, 5)], [(1, 3)]])
    """
    flat = [s for doc in documents for s in doc]
    encodings = _bare_encodings(tokenizer, flat)
    cap = _member_cap(max_length, context_tokens)
    ids = [e.ids[:cap] for e in encodings]
    out: dict[str, list] = {"input_ids": [], "sentence_pos": [], "members": [], "spans": []}
    if offsets:
        out["offset_mapping"] = [e.offsets[:cap] for e in encodings]
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    first = 0
    for doc in documents:
        n, k = len(doc), 0
        while k < n:
            left = ids[first + k - 1][-context_tokens:] if k > 0 and context_tokens else []
            row, pos, members, spans = [cls, *left], [0] * (1 + len(left)), [], []
            while k < n and (not members or len(row) + len(ids[first + k]) + context_tokens + 1 <= max_length):
                a = len(row)
                row += ids[first + k]
                pos += [len(members) + 1] * (len(row) - a)
                members.append(first + k)
                spans.append((a, len(row)))
                k += 1
            right = ids[first + k][:context_tokens] if k < n and context_tokens else []
            row += [*right, sep]
            pos += [0] * (len(right) + 1)
            out["input_ids"].append(row)
            out["sentence_pos"].append(pos)
            out["members"].append(members)
            out["spans"].append(spans)
        first += n
    return out


def window_offsets(tokenizer, sentences: list[str], max_length: int,
                   context_tokens: int = WINDOW_CONTEXT_TOKENS) -> list[list[tuple[int, int]]]:
    """Each sentence's ``offset_mapping`` as :func:`encode_windows` gives it, without the rows.

    For decoding the few sentences that need their tokens' offsets (the attributed ones) without
    laying out a whole group of documents again.
    """
    cap = _member_cap(max_length, context_tokens)
    return [e.offsets[:cap] for e in _bare_encodings(tokenizer, sentences)]


def _bare_encodings(tokenizer, sentences: list[str]) -> list:
    """The Rust encodings of sentences on their own: no special tokens, no truncation, no padding."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise ValueError("context 'window' needs a fast (Rust) tokenizer, which every base claimsift ships has")
    if not sentences:
        return []
    with _BACKEND_LOCK:  # truncation and padding settings live on the shared Rust object
        backend.no_padding()
        backend.no_truncation()
        return backend.encode_batch(sentences, add_special_tokens=False)


def _member_cap(max_length: int, context_tokens: int) -> int:
    """The most tokens a member keeps: one member always fits beside both neighbours."""
    return max(1, max_length - 2 - 2 * context_tokens)


def window_mask(sentence_pos, members: int):
    """``(B, S, T)`` 0/1 member masks from ``(B, T)`` ``sentence_pos`` (a torch tensor, or a NumPy
    array for ONNX Runtime, which gets one back).

    ``S`` is ``members``, the most members of a row, given rather than read off the positions: a
    member with no tokens (an empty sentence) shows no position.

    >>> import torch
    >>> window_mask(torch.tensor([[0, 1, 1, 2, 0]]), 3).tolist()
    [[[0, 1, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 0]]]
    >>> window_mask(np.array([[0, 1, 2]]), 2).tolist()
    [[[0, 1, 0], [0, 0, 1]]]
    """
    if isinstance(sentence_pos, np.ndarray):
        return (sentence_pos[:, None, :] == np.arange(1, members + 1)[None, :, None]).astype(np.int64)
    import torch

    return (sentence_pos[:, None, :] == torch.arange(1, members + 1, device=sentence_pos.device)[None, :, None]
            ).long()


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
