"""Turn a document's sentences into encoder inputs, with context and token tags.

The target sentence is the first sequence; its neighbours (previous and next
sentence, clipped) are the second, so a quote's continuation sees its opener and a
quote's first sentence sees the "she said" that closes it.

>>> from transformers import PreTrainedTokenizerFast            # doctest: +SKIP
>>> context_pairs(["A.", "B.", "C."], "both", "[SEP]")[1]      # doctest: +SKIP
'A. [SEP] C.'
"""

from __future__ import annotations

from claimsift.model.labels import SPAN_KINDS, TAGS

CONTEXT_MODES = ("none", "prev", "both")
_CONTEXT_CHARS = 120
TAG2ID = {t: i for i, t in enumerate(TAGS)}


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
    """Tokenize sentences (with their contexts) without padding; adds ``sentence_mask``."""
    has_ctx = contexts and contexts[0] is not None
    enc = tokenizer(
        sentences,
        contexts if has_ctx else None,
        truncation=True,
        max_length=max_length,
        return_offsets_mapping=True,
    )
    enc["sentence_mask"] = [
        [1 if sid == 0 else 0 for sid in enc.sequence_ids(k)] for k in range(len(sentences))
    ]
    return enc


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
