"""The host side of scoring: everything but the network, in plain Python and NumPy.

Before the network runs, a group of whole documents is tokenized and packed into padded rows
(:func:`encode_group`, :func:`pack`); after it, the network's outputs become per-document results
with their attributions (:func:`finish`). :class:`~claimsift.model.detector.ClaimDetector` runs
these in its own process by default, and in worker processes when given ``workers``: on a GPU the
network is so fast that this side, not the forward pass, bounds throughput
(``eval/results/speed_gpu.md``). The module imports no torch, so a worker starts in a fraction of
a second and holds little memory.

>>> spec = HostSpec(tokenizer, context="window", max_length=256, window_context=8)   # doctest: +SKIP
>>> enc = encode_group(spec, [["Prices rose.", "Analysts say they may fall."]])      # doctest: +SKIP
>>> packed = pack(spec, enc)                                                          # doctest: +SKIP
>>> packed.arrays["input_ids"].shape, packed.members.tolist()                         # doctest: +SKIP
((1, 14), [2])
"""

from __future__ import annotations

import gc
import os
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
from claimsift.model import attribution as attr
from claimsift.model.features import collate_sorted, context_pairs, encode, encode_windows
from claimsift.model.labels import LABELS, Label
from claimsift.model.results import Attribution, Field, Results, SentenceResult

_ATTRIBUTED = {lab.value for lab in Label if lab.has_attribution}


@dataclass(frozen=True)
class HostSpec:
    """What the host side needs of a detector: its tokenizer and how rows are laid out."""

    tokenizer: object  # a fast transformers tokenizer or a claimsift.model.tokenizer.CoreTokenizer
    context: str
    max_length: int
    window_context: int

    @property
    def window(self) -> bool:
        return self.context == "window"

    @property
    def keys(self) -> tuple[str, ...]:
        """The padded arrays the network takes (``attention_mask`` is made from the lengths)."""
        if self.window:
            return ("input_ids", "sentence_pos")
        return tuple(k for k in ("input_ids", "token_type_ids", "sentence_mask")
                     if k == "sentence_mask" or k in self.tokenizer.model_input_names)


@dataclass(frozen=True)
class Packed:
    """One group's rows, padded and sorted by length (see :func:`~claimsift.model.features.collate_sorted`).

    ``members`` (window layout) is how many sentences each row holds, in encoded row order.
    """

    order: np.ndarray
    lengths: np.ndarray
    arrays: dict[str, np.ndarray]
    members: np.ndarray | None


def groups(documents: Sequence[Sequence[str]], chunk: int) -> list[list[list[str]]]:
    """Whole documents in groups of about ``chunk`` sentences.

    >>> groups([["a", "b"], ["c"], ["d", "e", "f"]], 3)
    [[['a', 'b'], ['c']], [['d', 'e', 'f']]]
    """
    out, cur, n = [], [], 0
    for doc in documents:
        cur.append(list(doc))
        n += len(doc)
        if n >= chunk:
            out.append(cur)
            cur, n = [], 0
    if cur:
        out.append(cur)
    return out


def encode_group(spec: HostSpec, docs: list[list[str]]) -> dict:
    """Tokenize one group of documents; ``sentences`` holds its sentences in order."""
    flat = [s for d in docs for s in d]
    if spec.window:
        enc = encode_windows(spec.tokenizer, docs, spec.max_length, spec.window_context)
    else:
        sep = spec.tokenizer.sep_token or " "
        contexts = [c for d in docs for c in context_pairs(d, spec.context, sep)]
        enc = encode(spec.tokenizer, flat, contexts, spec.max_length)
    enc["sentences"] = flat
    return enc


def pack(spec: HostSpec, enc: dict) -> Packed:
    """Pad an encoded group into the network's arrays, sorted by length."""
    pad = spec.tokenizer.pad_token_id or 0
    order, lengths, arrays = collate_sorted(enc, spec.keys, pad)
    members = np.fromiter(map(len, enc["members"]), np.int64, len(enc["members"])) if spec.window else None
    return Packed(order, lengths, arrays, members)


def decode(spec: HostSpec, enc: dict, batches: list[tuple], normalized: bool) -> list[tuple]:
    """One row per sentence of the group, in order: ``(index, best, probs, spans or None, named)``.

    ``batches`` are the network's outputs as NumPy arrays, ``(rows, probs, named, tags)`` per batch,
    ``rows`` the encoded rows each covers. Tag outputs are probabilities when ``normalized``, else
    logits (a CPU leaves them raw: only the attributed sentences' tokens are normalised).
    """
    out: list = [None] * len(enc["sentences"])
    for rows, probs, named, tags in batches:
        best = probs.argmax(-1).tolist()
        probs, named = probs.tolist(), named.tolist()
        if spec.window:
            for r, w in enumerate(rows):
                for s, i in enumerate(enc["members"][w]):
                    spans = None
                    if LABELS[best[r][s]] in _ATTRIBUTED:
                        a, z = enc["spans"][w][s]
                        t = tags[r, a:z] if normalized else _softmax(tags[r, a:z])
                        spans = attr.decode_spans(enc["sentences"][i], enc["offset_mapping"][i], [1] * (z - a), t)
                    out[i] = (i, best[r][s], probs[r][s], spans, named[r][s])
            continue
        for r, i in enumerate(rows):
            spans = None
            if LABELS[best[r]] in _ATTRIBUTED:
                n = len(enc["input_ids"][i])
                t = tags[r, :n] if normalized else _softmax(tags[r, :n])
                spans = attr.decode_spans(enc["sentences"][i], enc["offset_mapping"][i], enc["sentence_mask"][i], t)
            out[i] = (i, best[r], probs[r], spans, named[r])
    return out


def finish(spec: HostSpec, docs: list[list[str]], enc: dict, batches: list[tuple], normalized: bool
           ) -> list[Results]:
    """The group's results, one :class:`Results` per document (see :func:`decode`)."""
    rows = decode(spec, enc, batches, normalized)
    out, pos = [], 0
    for doc in docs:
        out.append(assemble(doc, rows[pos:pos + len(doc)]))
        pos += len(doc)
    return out


def assemble(sentences: list[str], rows: list) -> Results:
    """One document's results from its decoded rows, with the rules that need the sentences around."""
    results = Results()
    last_speaker: tuple[Field, bool, int] | None = None  # (speaker, named, sentence index)
    quote_open = False
    opener: tuple[int, int] | None = None  # (label index, sentence index) of the open quote's first sentence
    for k, (text, row) in enumerate(zip(sentences, rows, strict=True)):
        in_quote, quote_open = quote_open, attr.quote_open_after(text, quote_open)
        _, best, probs, spans, named_p = row
        if not in_quote:
            opener = (best, k) if quote_open and LABELS[best] in _ATTRIBUTED else None
        elif opener and k - opener[1] <= 3 and best != opener[0] and LABELS[best] != "no_claim":
            # Rule 2: a quote running over several sentences keeps its first sentence's label
            # (341 of 343 such sentences in the Wikinews annotations). The model, reading a
            # sentence with little or no context, often takes the continuation for a plain fact.
            best = opener[0]
            spans = spans or dict.fromkeys(("speaker", "role", "cue"))
        label = LABELS[best]
        attribution = None
        if spans is not None:
            fields = {kind: Field(text[sp[0]:sp[1]], sp[0], sp[1]) if sp else None
                      for kind, sp in spans.items()}
            speaker, named = fields["speaker"], named_p >= 0.5
            if speaker is None and (found := attr.according_to(text)):
                (a, b), (c, d) = found
                speaker = Field(text[a:b], a, b)
                fields["cue"] = fields["cue"] or Field(text[c:d], c, d)
            # Inside a quote opened earlier, the speaker is whoever opened it (rule 2).
            if last_speaker and k - last_speaker[2] <= 3 and (in_quote or attr.needs_context(
                    text, speaker.text if speaker else None, fields["cue"] is not None, label)):
                speaker = replace(last_speaker[0], start=None, end=None, from_context=True)
                named = last_speaker[1]
            named = named and speaker is not None
            attribution = Attribution(speaker, fields["role"], fields["cue"], named)
            if speaker is not None:
                last_speaker = (speaker, named, k)
        results.append(SentenceResult(
            text=text, start=0, end=len(text), label=label, confidence=probs[best],
            scores=dict(zip(LABELS, probs, strict=True)), attribution=attribution, index=k,
        ))
    return results


@contextmanager
def older_objects_frozen():
    """Keep Python's cyclic garbage collector off the objects that exist when the block starts.

    Scoring makes a few objects per sentence that live on (its results), and each time the oldest
    generation has grown by a quarter CPython collects it whole, walking every tracked object of
    the process: hundreds of thousands once torch, transformers and a model are loaded. Those
    walks cost the host side more than tokenizing did, in this process too when workers build the
    results (unpickling them makes the same objects). :func:`gc.freeze` moves the objects that
    already exist aside, so a collection walks only what the block made; they go back on leaving
    it. A caller that froze objects itself, or turned the collector off, is left as it was.

    >>> with older_objects_frozen():
    ...     results = [{"label": "no_claim"} for _ in range(10)]
    """
    if not gc.isenabled() or gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# ---- worker processes -------------------------------------------------------------------
_SPEC: HostSpec | None = None


def init_worker(spec: HostSpec) -> None:
    """Keep ``spec`` for this worker's tasks; tokenize on this worker's one core.

    The Rust tokenizer otherwise starts a thread per core in every worker, and a dozen workers
    would each fight the others (and the main process feeding the GPU) for all of them.
    """
    global _SPEC
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    os.environ["RAYON_NUM_THREADS"] = "1"
    _SPEC = spec


def prepare_in_worker(docs: list[list[str]]) -> Packed:
    """:func:`pack` of :func:`encode_group`, in a worker."""
    return pack(_SPEC, encode_group(_SPEC, docs))


def finish_in_worker(docs: list[list[str]], batches: list[tuple], normalized: bool) -> list[Results]:
    """:func:`finish` in a worker, which tokenizes the group again for its offsets.

    Tokenizing twice costs worker time, which is spare; shipping each sentence's offsets from the
    worker that packed it would pickle them through the main process, the one feeding the GPU,
    whose time is not.
    """
    return finish(_SPEC, docs, encode_group(_SPEC, docs), batches, normalized)
