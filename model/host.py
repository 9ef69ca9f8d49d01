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
import math
import os
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import repeat

import numpy as np
from claimsift.model import attribution as attr
from claimsift.model.features import collate_sorted, context_pairs, encode, encode_windows, window_offsets
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
    min_role_score: float = 0.0

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

    Window layout: ``members`` is how many sentences each row holds, in encoded row order (a row's
    members are consecutive sentences), and ``spans`` each sentence's token range in its row, in
    sentence order: with them a worker decodes the network's outputs without laying the rows out
    again (:func:`finish_in_worker`).
    """

    order: np.ndarray
    lengths: np.ndarray
    arrays: dict[str, np.ndarray]
    members: np.ndarray | None
    spans: np.ndarray | None = None

    @property
    def layout(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(members, spans)`` in the window layout, else ``None``."""
        return None if self.members is None else (self.members, self.spans)


def groups(documents: Sequence[Sequence[str]], chunk: int, taper: bool = False) -> list[list[list[str]]]:
    """Whole documents in groups of about ``chunk`` sentences.

    With ``taper`` the first groups grow to ``chunk`` and the last shrink from it, by a factor of
    1.5 from and to ``chunk // 16``. Workers prepare and finish a group whole, one worker each, so
    the network waits for the first group's tokenization and the last group's decoding waits for
    the network: small groups at both ends keep those waits short, large ones between keep the
    batches full.

    >>> groups([["a", "b"], ["c"], ["d", "e", "f"]], 3)
    [[['a', 'b'], ['c']], [['d', 'e', 'f']]]
    >>> [sum(map(len, g)) for g in groups([["s"] * 8] * 200, 256, taper=True)]
    [16, 24, 40, 56, 88, 128, 184, 176, 176, 176, 184, 128, 88, 56, 40, 24, 16]
    """
    docs = [list(d) for d in documents]
    if not taper:
        return _take(docs, repeat(chunk))[0]
    ramp, s = [], max(1, chunk // 16)
    while s < chunk:
        ramp.append(round(s))
        s *= 1.5
    head, k = _take(docs, ramp)
    rest = docs[k:]
    tail, j = _take(rest[::-1], ramp)  # from the end backwards
    middle = rest[:len(rest) - j]
    n = sum(map(len, middle))
    count = max(1, math.ceil(n / chunk))  # the middle in as many groups as chunk needs, evened out
    return head + _take(middle, repeat(math.ceil(n / count)))[0] + [g[::-1] for g in reversed(tail)]


def _take(docs: list[list[str]], sizes: Iterable[int]) -> tuple[list[list[list[str]]], int]:
    """Leading groups of ``docs``, the k-th of at least ``sizes[k]`` sentences (or what is left),
    while ``sizes`` lasts; and how many documents they hold."""
    out, k = [], 0
    for size in sizes:
        if k == len(docs):
            break
        cur, n = [], 0
        while k < len(docs) and (n < size or not cur):  # at least one document a group
            cur.append(docs[k])
            n += len(docs[k])
            k += 1
        out.append(cur)
    return out, k


def encode_group(spec: HostSpec, docs: list[list[str]], offsets: bool = True) -> dict:
    """Tokenize one group of documents; ``sentences`` holds its sentences in order. Without
    ``offsets`` the window layout leaves out the tokens' character offsets, which only decoding reads."""
    flat = [s for d in docs for s in d]
    if spec.window:
        enc = encode_windows(spec.tokenizer, docs, spec.max_length, spec.window_context, offsets)
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
    if not spec.window:
        return Packed(order, lengths, arrays, None)
    members = np.fromiter(map(len, enc["members"]), np.int64, len(enc["members"]))
    spans = np.array([sp for row in enc["spans"] for sp in row], dtype=np.int64).reshape(-1, 2)
    return Packed(order, lengths, arrays, members, spans)


def window_encoding(docs: list[list[str]], members: np.ndarray, spans: np.ndarray) -> dict:
    """The part of a window-layout encoding :func:`decode` reads, from a :class:`Packed` layout.

    Without ``offset_mapping``: decoding tokenizes the few sentences that need it.
    """
    ends = np.cumsum(members).tolist()
    starts = [0, *ends[:-1]]
    sp = spans.tolist()
    rows = list(zip(starts, ends, strict=True))
    return {"sentences": [s for d in docs for s in d], "members": [range(a, b) for a, b in rows],
            "spans": [sp[a:b] for a, b in rows]}


def decode(spec: HostSpec, enc: dict, batches: list[tuple], normalized: bool) -> list[tuple]:
    """One row per sentence of the group, in order: ``(index, best, probs, spans or None, named)``.

    ``batches`` are the network's outputs as NumPy arrays, ``(rows, probs, named, tags)`` per batch,
    ``rows`` the encoded rows each covers. Tag outputs are probabilities when ``normalized``, else
    logits (a CPU leaves them raw: only the attributed sentences' tokens are normalised).
    """
    out: list = [None] * len(enc["sentences"])
    attributed = []  # (sentence, its tokens' tag outputs, their mask or None)
    for rows, probs, named, tags in batches:
        best = probs.argmax(-1).tolist()
        probs, named = probs.tolist(), named.tolist()
        for r, w in enumerate(rows):
            if not spec.window:
                out[w] = (w, best[r], probs[r], None, named[r])
                if LABELS[best[r]] in _ATTRIBUTED:
                    attributed.append((w, tags[r, :len(enc["input_ids"][w])], enc["sentence_mask"][w]))
                continue
            for s, i in enumerate(enc["members"][w]):
                out[i] = (i, best[r][s], probs[r][s], None, named[r][s])
                if LABELS[best[r][s]] in _ATTRIBUTED:
                    a, z = enc["spans"][w][s]
                    attributed.append((i, tags[r, a:z], None))
    if not attributed:
        return out
    wanted = [i for i, _, _ in attributed]
    offsets = enc.get("offset_mapping")
    if offsets is None:  # a worker's encoding from a Packed layout: only these need them
        offsets = dict(zip(wanted, window_offsets(spec.tokenizer, [enc["sentences"][i] for i in wanted],
                                                  spec.max_length, spec.window_context), strict=True))
    tag_probs = [t for _, t, _ in attributed]
    if not normalized:  # one softmax for all of them: row by row, the same numbers as one by one
        sizes = np.cumsum([len(t) for t in tag_probs])[:-1]
        tag_probs = np.split(softmax(np.concatenate(tag_probs)), sizes)
    masks = None if spec.window else [m for _, _, m in attributed]
    found = attr.decode_many([enc["sentences"][i] for i in wanted], [offsets[i] for i in wanted], masks, tag_probs,
                             spec.min_role_score)
    for i, spans in zip(wanted, found, strict=True):
        out[i] = (*out[i][:3], spans, out[i][4])
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
    names: list[str] = []  # speakers found in the document's own sentences so far, in order
    quote_open = False
    opener: tuple[int, int] | None = None  # (label, sentence index) of the open quote's first or reopening sentence
    quote_start = 0  # the sentence where the open quote began
    for k, (text, row) in enumerate(zip(sentences, rows, strict=True)):
        in_quote = quote_open and not attr.opens_new_quote(text)
        quote_open = attr.quote_open_after(text, quote_open)
        _, best, probs, spans, named_p = row
        if not in_quote:
            opener = (best, k) if quote_open and LABELS[best] in _ATTRIBUTED else None
            quote_start = k
        elif opener and text.lstrip()[:1] in '"“':
            # The quote's next paragraph opens with a mark of its own: it is still the same quote,
            # and the sentences counted from here.
            opener = (opener[0], k)
        if in_quote and opener and k - opener[1] <= 3 and best != opener[0] and LABELS[best] != "no_claim":
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
            if fields["cue"] is None and speaker is not None and (found := attr.cue_after_speaker(text, speaker.end)):
                fields["cue"] = Field(text[found[0]:found[1]], *found)
            if fields["cue"]:
                c, d = attr.according_cue(text, (fields["cue"].start, fields["cue"].end), speaker is not None)
                fields["cue"] = Field(text[c:d], c, d)
            # The name beside the reporting verb, where the tagger found no speaker, or where its
            # surest one is away from the verb ('Day said of Hudson', 'in an interview with The
            # Bark, Day said') and is not part of that name ('Colonel (retd) | Martin Kask').
            cue = fields["cue"] and (fields["cue"].start, fields["cue"].end)
            if cue and (found := attr.speaker_by_cue(text, cue)) and (speaker is None or (
                    not attr.beside_cue(text, (speaker.start, speaker.end), cue,
                                        fields["role"] and (fields["role"].start, fields["role"].end))
                    and (found[1] <= speaker.start or speaker.end <= found[0]
                         or found[0] <= speaker.start and speaker.end <= found[1]))):
                speaker = Field(text[found[0]:found[1]], *found)
            # A quote of several sentences attributed at its end ('... ruthless. [...]," said Ann
            # Lee'): the speaker named after the closing mark spoke the whole quote (rule 2), so
            # its earlier sentences, which took the speaker from before the quote, get this one.
            closes = (in_quote and not quote_open and speaker is not None and not attr.is_pronoun(speaker.text)
                      and speaker.start > max(text.rfind('"'), text.rfind("”")))
            if closes:
                _credit(results, range(quote_start, k), replace(
                    speaker, text=attr.fullest_name(speaker.text, names)), named)
            # Inside a quote opened earlier, the speaker is whoever opened it (rule 2).
            elif last_speaker and k - last_speaker[2] <= 3 and (in_quote or attr.needs_context(
                    text, speaker.text if speaker else None, fields["cue"] is not None, label)):
                speaker = replace(last_speaker[0], text=attr.fullest_name(last_speaker[0].text, names),
                                  start=None, end=None, from_context=True)
                named = last_speaker[1]
            # Named or not is the named head's call even where no speaker span was found: the source
            # is named in the text ('Tesco and Salling Group announced'), the tagger missed it, and
            # calling it anonymous would send the desk after an unnamed source. Named accuracy rose on
            # corpus dev/test/hard and Wikinews dev: 0.869/0.925/0.910/0.818 -> 0.919/0.936/0.950/0.835.
            attribution = Attribution(speaker, fields["role"], fields["cue"], named)
            if speaker is not None:
                last_speaker = (speaker, named, k)
                if not speaker.from_context:
                    names.append(speaker.text)
        results.append(SentenceResult(
            text=text, start=0, end=len(text), label=label, confidence=probs[best],
            scores=dict(zip(LABELS, probs, strict=True)), attribution=attribution, index=k,
        ))
    return results


@contextmanager
def collector_paused():
    """Python's cyclic garbage collector off while the block runs, back on after it.

    Scoring makes a few objects per sentence that live on (its results), and each time the oldest
    generation has grown by a quarter CPython collects it whole, walking every tracked object of
    the process: hundreds of thousands once torch, transformers and a model are loaded, a quarter
    of a second a walk. Those walks cost the host side more than tokenizing did, in this process
    too when workers build the results (unpickling them makes the same objects), and a collection
    has nothing to find there: scoring makes no reference cycles (``tests/test_host.py`` checks
    it), so reference counting frees all it drops. A caller that turned the collector off is left
    as it was.

    >>> with collector_paused():
    ...     results = [{"label": "no_claim"} for _ in range(10)]
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _credit(results: Results, indices: range, speaker: Field, named: bool) -> None:
    """Give the attributed sentences in ``indices`` whose speaker came from context (or is missing)
    ``speaker``, as a speaker from context."""
    carried = replace(speaker, start=None, end=None, from_context=True)
    for j in indices:
        a = results[j].attribution
        if a is not None and (a.speaker is None or a.speaker.from_context):
            results[j] = replace(results[j], attribution=replace(a, speaker=carried, named=named))


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis.

    >>> softmax(np.array([[0.0, 0.0], [0.0, np.log(3)]], dtype=np.float32)).round(3).tolist()
    [[0.5, 0.5], [0.25, 0.75]]
    """
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
    """:func:`pack` of :func:`encode_group`, in a worker, without the tokens' offsets: the worker that
    finishes the group tokenizes again the few sentences whose offsets it needs (:func:`finish_in_worker`)."""
    return pack(_SPEC, encode_group(_SPEC, docs, offsets=False))


def finish_in_worker(docs: list[list[str]], batches: list[tuple], normalized: bool,
                     layout: tuple[np.ndarray, np.ndarray] | None = None) -> list[Results]:
    """:func:`finish` in a worker, from the group's :attr:`Packed.layout` in the window layout.

    The worker that packed the group may not be the one finishing it, so the encoding is not at
    hand: the window layout's rows are rebuilt from ``layout`` (two small arrays), and only the
    sentences whose attribution is decoded are tokenized again, for their offsets. The sentence
    pair layout is tokenized again whole. Shipping every sentence's offsets instead would pickle
    them through the main process, the one feeding the GPU, whose time is what bounds it.
    """
    enc = encode_group(_SPEC, docs) if layout is None else window_encoding(docs, *layout)
    return finish(_SPEC, docs, enc, batches, normalized)
