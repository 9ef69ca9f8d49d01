"""Decode attribution spans from token-tag probabilities, and resolve speakers from context.

Pure functions on plain lists: the detector passes per-token probabilities in.

>>> probs = [[1, 0, 0, 0, 0, 0, 0], [0, .9, .1, 0, 0, 0, 0], [0, 0, .9, 0, 0, 0, 0], [0, 0, 0, 0, 0, .8, 0]]
>>> decode_spans("Ann Lee said", [(0, 0), (0, 3), (4, 7), (8, 12)], [0, 1, 1, 1], probs)["speaker"]
(0, 7, 0.95)
"""

from __future__ import annotations

import re

from claimsift.model.labels import SPAN_KINDS, TAGS

PRONOUNS = {"he", "she", "they", "i", "we", "him", "her", "them", "his", "hers", "it"}
_WORD_CHAR = re.compile(r"[\w'’.-]")


def _widen(text: str, s: int, e: int) -> tuple[int, int]:
    """Grow a span to whole words (subword tokens can cut a word)."""
    while s > 0 and _WORD_CHAR.match(text[s - 1]) and _WORD_CHAR.match(text[s]):
        s -= 1
    while e < len(text) and _WORD_CHAR.match(text[e]) and _WORD_CHAR.match(text[e - 1]):
        e += 1
    while e > s and text[e - 1] in ",;:.":
        e -= 1
    return s, e


def decode_spans(text: str, offsets, sentence_mask, probs) -> dict[str, tuple[int, int, float] | None]:
    """Best (start, end, score) per span kind from per-token tag probabilities.

    A span starts at a token whose best tag is B-kind (or I-kind after a non-kind token) and
    runs while the best tag is I-kind; the run with the highest mean probability wins.
    """
    best_tags = [max(range(len(p)), key=p.__getitem__) for p in probs]
    out: dict[str, tuple[int, int, float] | None] = {}
    for kind in SPAN_KINDS:
        b, i = TAGS.index(f"B-{kind}"), TAGS.index(f"I-{kind}")
        runs: list[tuple[int, int, float]] = []
        cur: list[int] = []
        for t, tag in enumerate(best_tags + [0]):
            inside = t < len(best_tags) and sentence_mask[t] and offsets[t][1] > offsets[t][0]
            if inside and tag in (b, i):
                if tag == b and cur:
                    runs.append(_run(cur, probs, b, i))
                    cur = []
                cur.append(t)
            elif cur:
                runs.append(_run(cur, probs, b, i))
                cur = []
        if not runs:
            out[kind] = None
            continue
        first, last, score = max(runs, key=lambda r: r[2])
        s, e = _widen(text, offsets[first][0], offsets[last][1])
        out[kind] = (s, e, score) if e > s else None
    return out


def _run(tokens: list[int], probs, b: int, i: int) -> tuple[int, int, float]:
    score = sum(probs[t][b] + probs[t][i] for t in tokens) / len(tokens)
    return tokens[0], tokens[-1], score


def is_pronoun(speaker: str | None) -> bool:
    return speaker is not None and speaker.strip().lower() in PRONOUNS


_PRONOUN_WORD = re.compile(r"\b(he|she|they|his|her|their)\b", re.I)


def needs_context(text: str, speaker: str | None, has_cue: bool, label: str) -> bool:
    """Should the speaker come from earlier sentences? Pronoun speakers, and quote continuations.

    >>> needs_context('"It was hard," she added.', None, True, "attributed_quote")
    True
    >>> needs_context("Reportedly, talks stalled.", None, True, "unverifiable_expert_claim")
    False
    """
    if speaker is not None and not is_pronoun(speaker):
        return False
    if speaker is not None or _PRONOUN_WORD.search(text):
        return True
    # No pronoun and no cue: a quote's continuation sentence ("It took years.")
    return not has_cue and (label == "attributed_quote" or text.lstrip()[:1] in "\"“'‘")
