"""Decode attribution spans from token-tag probabilities, and resolve speakers from context.

Pure functions on plain lists: the detector passes per-token probabilities in.

>>> probs = [[1, 0, 0, 0, 0, 0, 0], [0, .9, .1, 0, 0, 0, 0], [0, 0, .9, 0, 0, 0, 0], [0, 0, 0, 0, 0, .8, 0]]
>>> decode_spans("Ann Lee said", [(0, 0), (0, 3), (4, 7), (8, 12)], [0, 1, 1, 1], probs)["speaker"]
(0, 7, 0.95)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import chain, repeat

import numpy as np
from claimsift.model.labels import SPAN_KINDS, TAGS

PRONOUNS = {"he", "she", "they", "i", "we", "him", "her", "them", "his", "hers", "their", "it"}
_WORD_CHAR = re.compile(r"[\w'’.-]")
_ALNUM = re.compile(r"[^\W_]")
# Sums a token's tag probabilities into P(O) and, per kind, P(B) + P(I).
_KIND_SUM = np.zeros((len(TAGS), 1 + len(SPAN_KINDS)))
_KIND_SUM[0, 0] = 1.0
for _k, _kind in enumerate(SPAN_KINDS, start=1):
    _KIND_SUM[[TAGS.index(f"B-{_kind}"), TAGS.index(f"I-{_kind}")], _k] = 1.0


def decode_spans(text: str, offsets, sentence_mask, probs, min_role_score: float = 0.0
                 ) -> dict[str, tuple[int, int, float] | None]:
    """Best (start, end, score) per span kind from per-token tag probabilities.

    Subword tokens vote per word (their B+I probabilities are averaged), so a word is never cut
    between two kinds; a span is a run of consecutive words of one kind, and the run with the
    highest mean probability wins. A run is not split where a word looks more like a beginning (B)
    than an inside (I): the tagger marks a B inside names and titles ("at | Oberlin Securities"),
    and splitting there cut more spans short than it separated adjacent ones (exact-match F1 of
    speaker, role and cue on corpus dev, test, hard and Wikinews dev; README, Attribution).
    ``probs`` is a (tokens, tags) list or array. A role whose words' mean probability is under
    ``min_role_score`` is left out (a model's ``min_role_score``; see ``DetectorConfig``).
    """
    return decode_many([text], [offsets], [sentence_mask], [probs], min_role_score)[0]


def decode_many(texts: list[str], offsets: list, masks: list | None, probs: list, min_role_score: float = 0.0
                ) -> list[dict[str, tuple[int, int, float] | None]]:
    """:func:`decode_spans` of many sentences: the same spans, with the array work done once for all.

    Per sentence its text, its tokens' ``(start, end)`` offsets in text order, a 0/1 mask of the
    tokens that are the sentence's (``masks`` None: all of them) and a (tokens, tags) array of
    probabilities. On a GPU the host's work per sentence bounds scoring, and one call per sentence
    spent most of it on small arrays: batched, a sentence cost a quarter to a fifth as much (README, Speed).

    >>> probs = [[1, 0, 0, 0, 0, 0, 0], [0, .9, .1, 0, 0, 0, 0], [0, 0, 0, 0, 0, .8, 0]]
    >>> [d["speaker"] for d in decode_many(["Ann said", "Bo said"], [[(0, 3), (4, 8)], [(0, 2), (3, 7)]],
    ...                                    None, [probs[1:], probs[1:]])]
    [(0, 3, 1.0), (0, 2, 1.0)]
    """
    out: list[dict] = [dict.fromkeys(SPAN_KINDS) for _ in texts]
    p = [np.asarray(x, dtype=np.float64).reshape(-1, len(TAGS)) for x in probs]
    ns = [min(len(o), len(x)) if masks is None else min(len(o), len(m), len(x))
          for o, m, x in zip(offsets, masks or repeat(()), p, strict=False)]
    total = sum(ns)
    if not total:
        return out
    sizes = np.array(ns, dtype=np.int64)
    sent = np.repeat(np.arange(len(texts)), sizes)  # each token's sentence
    first_token = np.cumsum(sizes) - sizes
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    base = np.cumsum(lengths + 1) - (lengths + 1)  # each sentence's place in the joined text
    rows = np.fromiter(map(len, p), np.int64, len(p))
    row = np.cumsum(rows)[sent] - rows[sent] + np.arange(total) - first_token[sent]  # each token's row of P
    off = np.fromiter(chain.from_iterable(chain.from_iterable(o[:n] for o, n in zip(offsets, ns, strict=True))),
                      np.int64, 2 * total).reshape(-1, 2)
    keep = off[:, 1] > off[:, 0]
    if masks is not None:
        keep &= np.fromiter(chain.from_iterable(m[:n] for m, n in zip(masks, ns, strict=True)), np.int64, total) != 0
    kept = np.flatnonzero(keep)
    if not kept.size:
        return out
    sent, row = sent[kept], row[kept]
    a, b = off[kept, 0] + base[sent], off[kept, 1] + base[sent]
    joined = "\n".join(texts)  # no word runs across sentences: a newline is not a word character
    word_start, word_end, first = _words(joined, a, b, sent)
    kinds = np.concatenate(p) @ _KIND_SUM  # (tokens, 4): P(O), then P(B) + P(I) of each kind
    # A word whose every token leans to O averages to O: such words are O without their average.
    lean = kinds[:, 1:].max(axis=1) > kinds[:, 0]
    vote = first.copy()  # a word's first token votes; a later one unless it is punctuation ("said.")
    for t in np.flatnonzero(~first).tolist():
        vote[t] = _ALNUM.search(joined, int(a[t]), int(b[t])) is not None
    voters = row[vote]
    starts = np.flatnonzero(first[vote])  # each word's first vote: every word's first token votes
    counts = np.diff(starts, append=len(voters))
    leaning = np.logical_or.reduceat(lean[voters], starts)
    mean = np.add.reduceat(kinds[voters], starts, axis=0) / counts[:, None]  # per word: P(O), P(each kind)
    kind_of = np.where(leaning, mean.argmax(axis=1), 0)  # the first maximum: ties go to O, speaker, role, cue
    found = np.flatnonzero(kind_of)
    if not found.size:
        return out
    word_sent = sent[first]
    # Runs of consecutive words of one kind in one sentence, walking only the words that have a
    # kind (a few per sentence); per sentence and kind, the run of highest mean score, the first of equals.
    best: dict[tuple[int, int], tuple[float, int, int]] = {}
    run: list = []  # [sentence, kind, first word, last word, scores]
    for w, ki, score, s in zip(found.tolist(), kind_of[found].tolist(), mean[found, kind_of[found]].tolist(),
                               word_sent[found].tolist(), strict=True):
        if run and (s, ki, w - 1) == (run[0], run[1], run[3]):
            run[3] = w
            run[4].append(score)
            continue
        if run:
            _keep_best(best, run)
        run = [s, ki, w, w, [score]]
    _keep_best(best, run)
    for (s, ki), (score, w0, w1) in sorted(best.items()):  # per sentence, speaker before role
        _finish_span(texts[s], out[s], SPAN_KINDS[ki - 1], int(word_start[w0] - base[s]),
                     int(word_end[w1] - base[s]), score, min_role_score)
    return out


def _keep_best(best: dict, run: list) -> None:
    """Keep ``run`` as its sentence's and kind's best if its mean score is higher than the best so far."""
    s, ki, first, last, scores = run
    score = sum(scores) / len(scores)
    if (s, ki) not in best or score > best[(s, ki)][0]:
        best[(s, ki)] = (score, first, last)


def _finish_span(text: str, out: dict, kind: str, s: int, e: int, score: float, min_role_score: float) -> None:
    """Set ``out[kind]`` from the words ``text[s:e]`` the tagger chose, their edges mended."""
    s, e = _trim(text, s, e)
    if kind == "speaker":
        s = _with_partitive(text, _with_head_noun(text, _with_title(text, s)))
        s = _with_determiner(text, _without_preposition(text, s, e))
        e = _to_end_of_name(text, s, e)
        s, e = _without_office(text, s, e), _without_possessive(text, s, e)
    elif kind == "role":
        s = _role_start(text, s, out["speaker"])
        e = _role_end(text, s, e, out["speaker"])
    if kind != "cue" and _FUNCTION_ONLY.fullmatch(text[s:e]):
        return  # a lone "for" or "of" is a boundary the tagger misplaced, not a role
    if kind == "role" and score < min_role_score:
        return
    out[kind] = (s, e, score) if e > s else None


_FUNCTION = ("a", "an", "the", "of", "for", "at", "in", "on", "from", "by", "with", "to", "and", "as", "who", "is")
_FUNCTION_ONLY = re.compile(rf"(?:\s*\b(?:{'|'.join(_FUNCTION)})\b\s*)*", re.I)
# Words that cannot be the noun a "familiar with ..." speaker hangs on.
_FUNCTION_WORDS = {*_FUNCTION, "are", "were", "was", "said", "say", "says"}

# "according to [a statement from] X": X is the source. The tagger misses this form when the
# source is an institution inside a longer phrase; the words themselves say who it is.
_ACCORDING = re.compile(
    r"\b(?P<cue>according to)\s+(?:(?:a|an|the)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:statement|report|release|filing|letter|post|notice|memo|spokes\w+|representative|document)s?"
    r"\s+(?:from|by|of|for|issued by|released by)\s+)?"
    r"(?P<speaker>[^,;:()\"“”.!?]+?)"
    r"(?=\s+(?:on|last|this|earlier|yesterday|today|which|who|that)\b|[,;:()\"“”!?]|\.(?:\s|$)|$)",
    re.I,
)


_DOCUMENT = re.compile(r"(?:a|an|the)\s+(?:[\w-]+\s+)?(?:statement|release|filing|letter|post|notice|memo)s?\b", re.I)


def according_to(text: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The (speaker, cue) character spans of an "according to X" attribution, if the text has one.

    >>> t = "Sanctions end in March, according to a statement from the US State Department."
    >>> (sp, cue) = according_to(t); t[sp[0]:sp[1]], t[cue[0]:cue[1]]
    ('the US State Department', 'according to')
    >>> according_to("Prices rose.") is None
    True
    """
    m = _ACCORDING.search(text)
    if not m or _FUNCTION_ONLY.fullmatch(m["speaker"]) or len(m["speaker"].split()) > 8 or _DOCUMENT.match(
            m["speaker"]):
        return None
    return m.span("speaker"), m.span("cue")


# The tagger finds the cue but sometimes not the speaker, mostly where the attribution is
# inverted after a quote ('"...," said Bolden to the crowd') or the subject is a plain noun
# ("The movement claims ..."). A reporting verb's subject is then the words right beside it.
_REPORTING = re.compile(
    r"\b(?:said|says|say|told|tells|asked|asks|added|adds|claim(?:s|ed)?|stat(?:es|ed)|declared|announced"
    r"|argued|insisted|warned|noted|wrote|writes|read|reads|reported|explained|recommend(?:s|ed)?"
    r"|suggest(?:s|ed)?|believe(?:s|d)?|estimated?)$", re.I)
_CAPITALISED = r"[A-Z][\w'’&-]*(?:\.(?=\s+[A-Z]))?"  # "Bolden", "Dr." before a name, "U.S.-based" no
_NAME_RUN = rf"{_CAPITALISED}(?:[ \t]+(?:\([a-z.]+\)[ \t]+)?{_CAPITALISED}){{0,3}}"  # "Colonel (retd) Martin Kask"
_AFTER_QUOTE = re.compile(r"(?:[,!?]?[\"”’]|[\"”’],)\s*$")  # '...," said X', not 'Acme, says X'

_NAME_AFTER = re.compile(rf"[ \t]+(?P<speaker>{_NAME_RUN})(?=$|[\s,.;:!?)])")
_SUBJECT_BEFORE = re.compile(
    rf"(?:^|(?<=[,;:]\s)|(?<=[\"“‘]))(?P<speaker>(?:(?:The|the)\s+)?{_NAME_RUN}|(?:The|A|An)\s+[a-z][\w'’-]*"
    r"(?:\s+[a-z][\w'’-]*)?)\s+$")
_NOT_NAMES = re.compile(
    r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June|July"
    r"|August|September|October|November|December|However|But|And|Yet|Still|Also|Then|Later|Earlier|Meanwhile"
    r"|On|In|At|By|After|Before|When|While|It|He|She|They|We|I|This|That|These|Those|There)\b")


_GAP_WORDS = re.compile(r"\b(?:[a-z]+ly|has|have|had|also|then|later|further|once)\b")


def beside_cue(text: str, speaker: tuple[int, int], cue: tuple[int, int], role: tuple[int, int] | None) -> bool:
    """Is the speaker next to its cue, with nothing but a role, commas or an adverb between?

    >>> t = "Ann Lee, an analyst, quietly said so."
    >>> beside_cue(t, (0, 7), (29, 33), (9, 19)), beside_cue(t, (0, 7), (29, 33), None)
    (True, False)
    """
    a, b = (speaker[1], cue[0]) if speaker[1] <= cue[0] else (cue[1], speaker[0])
    gap = text[a:b]
    if role is not None and a <= role[0] and role[1] <= b:
        gap = text[a:role[0]] + text[role[1]:b]
    return not re.search(r"[^\W\d_]", _GAP_WORDS.sub("", gap))


def speaker_by_cue(text: str, cue: tuple[int, int]) -> tuple[int, int] | None:
    """The speaker beside a reporting verb, where the tagger found the verb and no speaker.

    >>> t = '"We thank them," said Bolden to the gathered crowd.'
    >>> s, e = speaker_by_cue(t, (t.index("said"), t.index("said") + 4)); t[s:e]
    'Bolden'
    >>> t = "The movement claims to pursue land reform."
    >>> s, e = speaker_by_cue(t, (t.index("claims"), t.index("claims") + 6)); t[s:e]
    'The movement'
    >>> t = "The complaint, seen by the Ledger, says Tellwright was senior."
    >>> s, e = speaker_by_cue(t, (t.index("says"), t.index("says") + 4)) or (0, 0); t[s:e]
    ''
    >>> t = "On Monday they said talks had stalled."
    >>> speaker_by_cue(t, (t.index("said"), t.index("said") + 4)) is None
    True
    """
    c, d = cue
    if not _REPORTING.search(text[c:d]):
        return None
    if _AFTER_QUOTE.search(text[:c]) and (m := _NAME_AFTER.match(text, d)):
        span = m.span("speaker")
    elif m := _SUBJECT_BEFORE.search(text[:c]):
        span = m.span("speaker")
    else:
        return None
    words = text[span[0]:span[1]]
    first = words.split()[0]
    if _NOT_NAMES.fullmatch(first) or _NOT_NAMES.fullmatch(words.split()[-1]):
        return None
    return span


_VERB_STEMS = (
    "announc|report|stat|add|claim|declar|argu|insist|warn|not|explain|recommend|suggest|believ|estimat"
    "|underlin|reassert|reaffirm|denounc|promis|thank|call|condemn|confirm|accus|urg|blam|describ"
    "|welcom|criticis|criticiz|prais|admit|acknowledg|stress|emphasis|emphasiz|predict|expect|caution"
    "|question|reject|dismiss|conced|alleg|maintain|contend|assert|tweet|comment|repli|respond|agre|vow"
    "|pledg|demand|ask|propos|reveal|indicat|conclud")
_VERB_AFTER = re.compile(
    rf"(?:,[^,\"“”]{{1,120}},)?\s+(?:[a-z]+ly\s+)?(?P<cue>(?:said|says|say|told|tells|wrote|writes|denied|denies"
    rf"|(?:{_VERB_STEMS})(?:e|es|ed|d|s|ies|ied)?))\b")


def cue_after_speaker(text: str, speaker_end: int) -> tuple[int, int] | None:
    """The reporting verb right after a speaker (past an appositive role), where the tagger found none.

    >>> t = "The Health Minister for the region reported on Tuesday 21 cases."
    >>> c, d = cue_after_speaker(t, t.index(" reported")); t[c:d]
    'reported'
    >>> t = "Hami Aksoy, a ministry spokesman, underlined Turkey's rights."
    >>> c, d = cue_after_speaker(t, t.index(",")); t[c:d]
    'underlined'
    >>> cue_after_speaker("Tesco sold its stores.", 5) is None
    True
    """
    m = _VERB_AFTER.match(text, speaker_end)
    return m.span("cue") if m else None


_ACCORDING_CUE = re.compile(r"\baccording to\b", re.I)


def according_cue(text: str, cue: tuple[int, int], has_speaker: bool) -> tuple[int, int]:
    """The cue "according to" whole, where the tagger cut it ("to") or ran it into the source.

    A cue running on past "according to" is kept when there is no speaker: "According to reports"
    is then both cue and source, as the guidelines write it.

    >>> t = "According to NPR, he won."
    >>> according_cue(t, (10, 12), True), according_cue(t, (0, 16), True)
    ((0, 12), (0, 12))
    >>> t = "According to reports, he won."
    >>> according_cue(t, (0, 20), False)
    (0, 20)
    """
    c, d = cue
    for m in _ACCORDING_CUE.finditer(text):
        a, b = m.span()
        if a < d and c < b and (c, d) != (a, b) and ((a <= c and d <= b) or has_speaker):
            return a, b
    return cue


def _words(text: str, a: np.ndarray, b: np.ndarray, sent: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group tokens (offsets ``a``, ``b`` into ``text``, in text order; ``sent`` their sentence) into
    words: each word's start and end, and which tokens begin one.

    A token is widened to the whole run of word characters (letters, digits, ' ’ . -) around it,
    and tokens whose widened spans overlap are one word; a sentence's first token begins a word.
    A punctuation token inside a word (the full stop of "said." or "U.S.") belongs to it but
    does not vote (:func:`decode_many`): the tagger puts it in O, and its vote halved the last word
    of a sentence, so "she said." lost its cue and "at Oberlin Securities." its last word.
    Punctuation between words (a comma) stays a word of its own, in O, and so separates spans.

    >>> one = np.zeros(3, dtype=np.int64)
    >>> [x.tolist() for x in _words("she said.", np.array([0, 4, 8]), np.array([3, 8, 9]), one)]
    [[0, 4], [3, 9], [True, True, False]]
    >>> [x.tolist() for x in _words("Ann, Bo", np.array([0, 3, 5]), np.array([3, 4, 7]), one)]
    [[0, 3, 5], [3, 4, 7], [True, True, True]]
    """
    wide_a, wide_b = a, b
    run_start, run_end = _word_runs(text)
    if len(run_start):
        last = len(run_start) - 1
        j = np.searchsorted(run_end, a, side="right")  # the first run ending after the token starts
        jj = np.minimum(j, last)
        wide_a = np.where((j <= last) & (run_start[jj] <= a), run_start[jj], a)
        k = np.searchsorted(run_end, b - 1, side="right")  # the first ending after its last character
        kk = np.minimum(k, last)
        wide_b = np.where((k <= last) & (run_start[kk] <= b - 1), run_end[kk], b)
    reach = np.maximum.accumulate(wide_b)  # a word ends where the furthest of its tokens does
    first = np.ones(len(a), dtype=bool)
    first[1:] = (wide_a[1:] >= reach[:-1]) | (sent[1:] != sent[:-1])
    heads = np.flatnonzero(first)
    return wide_a[heads], reach[np.append(heads[1:] - 1, len(a) - 1)], first


def _word_runs(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends of the runs of word characters (``_WORD_CHAR``) in ``text``, from one array
    of its code points: a regex match object per run cost more than the rest of decoding.

    >>> [x.tolist() for x in _word_runs("U.S. envoy’s “talks”")]
    [[0, 5, 14], [4, 12, 19]]
    """
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    word = np.zeros(len(codes), dtype=bool)
    ascii_ = codes < 128
    word[ascii_] = _ASCII_WORD[codes[ascii_]]
    other = np.flatnonzero(~ascii_)
    if other.size:  # curly quotes, accents, dashes: few distinct characters, asked one by one
        distinct, where = np.unique(codes[other], return_inverse=True)
        word[other] = np.array([_WORD_CHAR.fullmatch(chr(c)) is not None for c in distinct.tolist()])[where]
    edges = np.flatnonzero(np.diff(word.astype(np.int8), prepend=0, append=0))
    return edges[0::2], edges[1::2]


_ASCII_WORD = np.array([_WORD_CHAR.fullmatch(chr(c)) is not None for c in range(128)])


_TITLE_BEFORE = re.compile(
    r"(?:\b(?:Dr|Prof|Professor|Mr|Mrs|Ms|Mx|Sir|Dame|Lord|Lady|Rev)\.?\s+)+$"  # honorifics, not offices
)


def _with_title(text: str, s: int) -> int:
    """Names are written with their titles: "Dr. Anya Petrova", not "Anya Petrova"."""
    m = _TITLE_BEFORE.search(text, max(0, s - 40), s)
    return m.start() if m else s


_PARTITIVE_HEAD = re.compile(
    r"\b(?:one|some|many|several|most|both|none|each|all|two|three|four|five|members?)\s+$", re.I)


def _with_partitive(text: str, s: int) -> int:
    """A speaker cannot begin with "of": "One of the children", not "of the children".

    >>> t = "One of the children said it was hard."
    >>> t[_with_partitive(t, t.index("of")):t.index(" said")]
    'One of the children'
    """
    if not text.startswith("of ", s):
        return s
    m = _PARTITIVE_HEAD.search(text, max(0, s - 12), s)
    return m.start() if m else s


_PREPOSITION = re.compile(r"(?:of|from|in|at|for|by|on|with|to)\s+", re.I)
_NAME_WORDS_BEFORE = re.compile(r"(?:[A-Z][\w'’&.-]*\s+)+$")
_ARTICLE = re.compile(r"(?:the|a|an)\s+(?=[A-Z])", re.I)


def _without_preposition(text: str, s: int, e: int) -> int:
    """A speaker the tagger started at a preposition: inside a name it takes the name's first words
    ("Notes | from Poland"), after "according" it starts after "to", else after it (and an article).

    >>> t = "According to Notes from Poland (NFP), stores adapted."
    >>> t[_without_preposition(t, t.index("from"), t.index(",")):t.index(",")]
    'Notes from Poland (NFP)'
    >>> t = "According to wildlife officials, it fled."
    >>> t[_without_preposition(t, t.index("to"), t.index(",")):t.index(",")]
    'wildlife officials'
    >>> t = "The results of the National Iodine Study showed a fall."
    >>> t[_without_preposition(t, t.index("of"), t.index(" showed")):t.index(" showed")]
    'National Iodine Study'
    """
    m = _PREPOSITION.match(text, s, e)
    if not m or m.end() >= e:
        return s
    before = _NAME_WORDS_BEFORE.search(text, max(0, s - 60), s)
    if before and not text[s:m.end()].lower().startswith("to") and not _NOT_NAMES.fullmatch(before[0].split()[0]):
        return before.start()
    a = _ARTICLE.match(text, m.end(), e)
    return a.end() if a else m.end()


_DETERMINER_BEFORE = re.compile(r"\b(?:the|a|an|his|her|their|its|our)\s+$", re.I)


def _with_determiner(text: str, s: int) -> int:
    """A speaker written as a common noun keeps its determiner: "the researchers", "his publicist".

    The guidelines take the speaker as written, article included; the tagger often leaves the
    article out. Names are left as they are ("Cyprus Mail"), since writers and annotators differ
    on whether "the" belongs to them.

    >>> t = "According to the researchers, the birds were wild."
    >>> t[_with_determiner(t, t.index("researchers")):t.index(",")]
    'the researchers'
    >>> t = "according to the Cyprus Mail."
    >>> t[_with_determiner(t, t.index("Cyprus")):-1]
    'Cyprus Mail'
    """
    if not text[s:s + 1].islower():
        return s
    m = _DETERMINER_BEFORE.search(text, max(0, s - 8), s)
    return m.start() if m else s


# Offices written before a name are the role, not the speaker ("Prime Minister | Ardern", "Chinese
# Vice Foreign Minister | Wu Daiwei"), as the annotations have them; honorifics stay (_with_title).
# Not "General" ("General Motors"), nor "Judge" or "Senator", which the annotations keep as often.
_OFFICES = {"Minister", "President", "Secretary", "Chancellor", "Commissioner", "Governor", "Administrator",
            "Director", "Chairman", "Chairwoman", "Chair", "Chief", "Ambassador", "Captain", "Scientist",
            "Spokesperson", "Spokesman", "Spokeswoman", "Premier", "Treasurer", "Coach", "CEO", "Leader",
            "Mayor", "Constable", "Superintendent", "Sheriff", "Inspector", "Officer", "Manager"}
_CAP = re.compile(r"[A-Z][\w'’.&-]*")


def _without_office(text: str, s: int, e: int) -> int:
    """Where a speaker starting with an office before a name really starts: at the name.

    >>> t = "Chinese Vice Foreign Minister Wu Daiwei met the ambassador."
    >>> t[_without_office(t, 0, t.index(" met")):t.index(" met")]
    'Wu Daiwei'
    >>> t = "The Health Minister said so."
    >>> _without_office(t, 0, t.index(" said"))
    0
    """
    words = list(re.finditer(r"\S+", text[s:e]))
    cut = None
    for k, w in enumerate(words[:-1]):
        if not _CAP.fullmatch(w[0]):
            return s  # a lowercase word or punctuation before the name: not a plain title run
        if w[0] in _OFFICES:
            cut = k + 1
    if cut is None or not all(_CAP.fullmatch(w[0]) and w[0] not in _OFFICES for w in words[cut:]):
        return s
    return s + words[cut].start()


_POSSESSIVE_DOCUMENT = re.compile(
    r"['’]s(?:\s+(?:statement|projections?|press release|release|announcement|tweet|website|report|figures"
    r"|post|letter))?$")


def _without_possessive(text: str, s: int, e: int) -> int:
    """Where a speaker written as the owner of a document ends: "CNN's projections" is CNN's claim.

    >>> t = "Cornyn's statement added that Houston lost."
    >>> t[:_without_possessive(t, 0, t.index(" statement"))]
    'Cornyn'
    >>> t[:_without_possessive(t, 0, t.index(" added"))]
    'Cornyn'
    """
    m = _POSSESSIVE_DOCUMENT.search(text, s, e)
    return m.start() if m and m.start() > s and text[s:s + 1].isupper() else e


_NAME_WORD_AFTER = re.compile(r"[ \t]+[A-Z][\w'’-]*")


def _to_end_of_name(text: str, s: int, e: int) -> int:
    """A speaker ending on a capitalised word runs on to the end of the name.

    >>> t = "according to the US State Department."
    >>> t[t.index("US"):_to_end_of_name(t, t.index("US"), t.index(" Department"))]
    'US State Department'
    """
    if e <= s or not text[text.rfind(" ", s, e) + 1:e][:1].isupper():
        return e
    while m := _NAME_WORD_AFTER.match(text, e):
        e = m.end()
    return e


_DANGLING = re.compile(r"\b(?:of|for|at|in|on|from|the|and)$", re.I)
_NEXT_WORD = re.compile(r"[ \t]+[\w'’&-]+")
_ABBREVIATION = re.compile(r"\b(?:Gov|Sen|Rep|Lt|Gen|Col|Capt|Sgt|Supt|Insp|Det|Corp|Co|Ltd)$")


def _role_end(text: str, s: int, e: int, speaker: tuple | None) -> int:
    """Where a role really ends: the tagger often stops one word short of it.

    A role ending on a function word ("the cabinet member for") takes the next word; one ending on
    a capitalised word ("an analyst at Oberlin") runs on to the end of the name; an abbreviated
    title keeps its full stop ("Connecticut Gov."). A role that would run into the speaker's name
    ("Senate Majority Leader" before "Carla Hendricks") is left as it was.

    >>> t = "said Karen Whitlock, a software analyst at Oberlin Securities."
    >>> t[t.index("a software"):_role_end(t, t.index("a software"), t.index(" Securities"), None)]
    'a software analyst at Oberlin Securities'
    >>> t = "said Omar Kessling, an economist at the University of Missouri, on Monday."
    >>> t[t.index("an econ"):_role_end(t, t.index("an econ"), t.index(" Missouri"), None)]
    'an economist at the University of Missouri'
    >>> t = "Senate Majority Leader Carla Hendricks said no."
    >>> _role_end(t, 0, 22, (23, 38, 0.9))
    22
    """
    end = e
    if _DANGLING.search(text, s, end) and (m := _NEXT_WORD.match(text, end)):
        end = m.end()
    end = _to_end_of_name(text, s, end)
    if text[end:end + 1] == "." and _ABBREVIATION.search(text, s, end):
        end += 1
    if speaker is not None and e <= speaker[0]:
        if speaker[0] < end:  # ran into the speaker's name: a title before it ("Prime | Minister Ardern")
            return e if text[e:speaker[0]].strip() == "" else len(text[:speaker[0]].rstrip())
        gap = text[end:speaker[0]]
        if gap.strip() and _TITLE_GAP.fullmatch(gap) and gap.islower() and not any(
                w in _FUNCTION_WORDS for w in gap.split()):  # "Environment Canada | spokeswoman | Sujata"
            return len(text[:speaker[0]].rstrip())
    return end


_TITLE_GAP = re.compile(r"\s+[\w'’&-]+(?:\s+[\w'’&-]+)?\s+")
_CAP_WORD_BEFORE = re.compile(r"(?:^|(?<=\s))([A-Z][\w'’&.-]*)\s+$")
_APPOSITIVE_ARTICLE = re.compile(r",\s+(?P<article>the|a|an)\s+$", re.I)


def _role_start(text: str, s: int, speaker: tuple | None) -> int:
    """Where a role really starts: the capitalised words of a title the tagger left out before it.

    Before the speaker's name a title has no article ("Sears CEO Alan Lacy"); after it, in
    apposition, the article is part of the role ("Jeff Rathke, the State Department Spokesperson").

    >>> t = "Sears CEO Alan Lacy promised savings."
    >>> t[_role_start(t, t.index("CEO"), (10, 19, 0.9)):t.index(" Alan")]
    'Sears CEO'
    >>> t = "Jeff Rathke, the State Department Spokesperson, said so."
    >>> t[_role_start(t, t.index("Spokes"), (0, 11, 0.9)):t.index(", said")]
    'the State Department Spokesperson'
    >>> t = "On Tuesday Prime Minister Ardern said so."
    >>> t[_role_start(t, t.index("Prime"), (26, 32, 0.9)):t.index(" Ardern")]
    'Prime Minister'
    """
    floor = speaker[1] if speaker is not None and speaker[1] <= s else 0
    if text[s:].split(" ", 1)[0].lower() in _FUNCTION:  # "[Analysts] at the King's Fund": what precedes is the head
        return s
    for _ in range(3):
        m = _CAP_WORD_BEFORE.search(text, floor, s)
        if not m or _NOT_NAMES.fullmatch(m[1]) or m[1] in ("The", "A", "An"):
            break
        s = m.start(1)
    if speaker is not None and speaker[1] <= s and (m := _APPOSITIVE_ARTICLE.fullmatch(text, speaker[1], s)):
        s = m.start("article")
    return s


# "Officials familiar with the talks": the tagger sometimes starts the speaker at the modifier and
# leaves out the noun it modifies, which is who speaks.
_MODIFIER = re.compile(r"(?:familiar|close|briefed|knowledgeable|involved|with direct knowledge)\b", re.I)
_HEAD_BEFORE = re.compile(r"\b[\w'’-]+\s+$")


def _with_head_noun(text: str, s: int) -> int:
    """Extend a speaker span that starts at a post-modifier left over the noun before it.

    >>> t = "Officials familiar with the draft say it is done."
    >>> t[_with_head_noun(t, t.index("familiar")):t.index(" say")]
    'Officials familiar with the draft'
    """
    if not _MODIFIER.match(text, s):
        return s
    m = _HEAD_BEFORE.search(text, max(0, s - 30), s)
    return m.start() if m and m.group().strip().lower() not in _FUNCTION_WORDS else s


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while e > s and text[e - 1] in ",;:.\"“”'‘’( \t" and not text[s:e].endswith(("Dr.", "Mr.", "Jr.", "Inc.")):
        e -= 1
    while s < e and text[s] in "\"“”'‘’(,;: ":
        s += 1
    return s, e


def fullest_name(speaker: str, earlier: list[str]) -> str:
    """The fullest earlier form of a one-word speaker carried into a later sentence.

    A quote's later sentences are the speaker's, who is named in full as they were first
    introduced: "Carrie Lam", not the "Lam" of the sentence just before (rule 2; the Wikinews
    annotations name them so). Only a single word is expanded, and only to an earlier speaker
    ending with it (the latest, should two people share a surname); anything else is kept as it is.

    >>> fullest_name("Lam", ["Carrie Lam", "the council"])
    'Carrie Lam'
    >>> fullest_name("the council", ["Carrie Lam", "the city council"])
    'the council'
    """
    if " " in speaker.strip() or not speaker[:1].isupper():
        return speaker
    longer = [e for e in earlier if e.endswith(" " + speaker) and e[:1].isupper()]
    return longer[-1] if longer else speaker


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


def quote_open_after(text: str, open_before: bool) -> bool:
    """Is a double quotation still open after ``text``?

    Curly marks say which way they face. A straight mark faces the way its neighbours say: after
    a space or at the start, before a word, it opens; after a word or punctuation, before a space
    or the end, it closes; only a mark with no such sign toggles. Toggling every straight mark,
    one lost closing mark ('lauded him for "new ideas.' with no mark after it, common in real copy
    and in paragraph-spanning quotes) turned every later quote inside out, so the rest of a long
    article read as quotation and took the last speaker's name.

    >>> quote_open_after('Dr. X notes, "The talks are a gamble.', False)
    True
    >>> quote_open_after('Washington is betting on a pause."', True)
    False
    >>> quote_open_after('"Tom is a visionary," said Ann Lee.', True)   # a new quote, opened and closed
    False
    """
    inside = open_before
    for _, opens in _quote_marks(text):
        inside = not inside if opens is None else opens
    return inside


def opens_new_quote(text: str) -> bool:
    """Does ``text`` open a quotation after words of its own ('Ann Lee said, "The...')?

    Such a sentence begins outside any quotation, whatever was left open before it: the quote
    before it ended at a paragraph break without its closing mark, as copy often does.

    >>> opens_new_quote('In a statement, Ann Lee said, "The museum worked hard.')
    True
    >>> opens_new_quote('"However, the trainer will come.')  # a quote's next paragraph
    False
    """
    for k, opens in _quote_marks(text):
        return bool(opens) and any(ch.isalnum() for ch in text[:k])
    return False


def _quote_marks(text: str) -> Iterator[tuple[int, bool | None]]:
    """Each double quotation mark's position and whether it opens (True), closes (False) or
    cannot tell (None)."""
    if '"' not in text and "“" not in text and "”" not in text:  # most sentences: no need to walk them
        return
    last = len(text) - 1
    for k, ch in enumerate(text):
        if ch == "“":
            yield k, True
        elif ch == "”":
            yield k, False
        elif ch == '"':
            before = text[k - 1] if k else " "
            after = text[k + 1] if k < last else " "
            if (before.isspace() or before in "([{—–-") and not after.isspace():
                yield k, True
            elif not before.isspace() and (after.isspace() or after in ".,;:!?)]}—–-"):
                yield k, False
            else:
                yield k, None
