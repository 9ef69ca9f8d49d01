"""Split a draft into sentences with character offsets into the original text.

Pure and linear in the input size. Lines are handled first (headings, bylines,
bullets, breadcrumbs and Q:/A: lines are their own sentences; a line that ends
mid-sentence and continues in lower case is treated as wrapped), then each block is
split at sentence-final punctuation unless it follows an abbreviation, a title, an
initial or a number marker, or the next word starts in lower case.

Spans never overlap, come in order, and only whitespace lies between them, so the
spans plus the gaps reproduce the input exactly.

>>> [s.text for s in segment('Dr. Ruth Ong, of the U.S. Treasury, said "No." Prices rose 3.5% in Jan. 2024.')]
['Dr. Ruth Ong, of the U.S. Treasury, said "No."', 'Prices rose 3.5% in Jan. 2024.']
>>> [s.text for s in segment("Home > News\\n\\n• First point\\n• Second point")]
['Home > News', '• First point', '• Second point']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words that end in a full stop without ending the sentence.
_TITLES = {
    "mr", "mrs", "ms", "mx", "dr", "prof", "rev", "hon", "sen", "rep", "gov", "gen", "col", "lt", "sgt",
    "capt", "cmdr", "adm", "maj", "pres", "supt", "insp", "det", "st", "fr", "sr", "jr", "messrs", "mme",
    "mlle", "sir", "cpl", "pvt", "brig", "cllr", "rt",
}
_ABBREVIATIONS = {
    "no", "nos", "vs", "v", "etc", "e.g", "i.e", "approx", "est", "dept", "fig", "figs", "vol", "ed", "eds",
    "ft", "mt", "ave", "blvd", "rd", "sq", "univ", "assn", "bros", "cf", "al", "ca", "c", "op", "pp", "para",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "ltd", "inc", "corp",
    "co", "plc", "llc", "mln", "bn", "tel", "ext", "art", "sec", "ch", "cap", "gov't", "int'l", "natl",
}
# Markers that abbreviate only before a number.
_NUMBERED = {"no", "nos", "art", "sec", "ch", "vol", "fig", "figs", "pp", "op", "para", "tel", "ext"}
# Abbreviations that often do end a sentence: break only before a word that usually starts one.
_SOFT = {"inc", "ltd", "corp", "co", "plc", "llc", "etc", "bros", "jr", "sr"}
_STARTERS = {
    "the", "a", "an", "in", "it", "he", "she", "they", "we", "i", "but", "and", "this", "that", "these",
    "those", "his", "her", "their", "its", "on", "at", "for", "as", "after", "when", "while", "there",
    "however", "meanwhile", "yet", "so", "if", "what", "why", "how", "who", "officials", "analysts",
}

_BOUNDARY = re.compile(
    r"""(?:[.!?…]+|[。！？]+)        # sentence-final punctuation
        [”"’'»)\]]*                  # closing quotes and brackets
        (?=(\s+)|[^\s]|$)""",
    re.VERBOSE,
)
_BULLET = re.compile(r"^\s*(?:[•●▪◦‣∙·*–—-]|\d{1,3}[.)]|[A-Za-z][.)]|Q:|A:|Q\.|A\.)\s")
_WORD_BEFORE = re.compile(r"(?<![\w])([A-Za-z][A-Za-z.'’]*)$")
_LIST_NUMBER = re.compile(r"^\s*\(?\d{1,3}[.)]$")
_CJK = "。！？"


@dataclass(frozen=True)
class Span:
    """One sentence: ``text == source[start:end]``."""

    start: int
    end: int
    text: str


def _line_blocks(text: str) -> list[tuple[int, int]]:
    """Blocks of text separated by line structure, as (start, end) offsets."""
    blocks: list[tuple[int, int]] = []
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\r\n]+", text)]
    prev_end = None
    for start, end in lines:
        line = text[start:end]
        stripped = line.strip()
        if not stripped:
            continue
        if blocks and prev_end is not None and _continues(text, blocks[-1], prev_end, start, stripped):
            blocks[-1] = (blocks[-1][0], end)
        else:
            blocks.append((start, end))
        prev_end = end
    return blocks


def _continues(text: str, block: tuple[int, int], prev_end: int, start: int, line: str) -> bool:
    """A single newline inside a paragraph whose next line goes on in lower case is a wrap."""
    gap = text[prev_end:start]
    if gap.count("\n") + gap.count("\r") - gap.count("\r\n") > 1:
        return False
    prev = text[block[0]:prev_end].rstrip()
    if not prev or prev[-1] in ".!?:;…。！？\"”’'" or _BULLET.match(line):
        return False
    return line[0].islower()


def _is_false_boundary(block: str, dot_end: int, next_word: str) -> bool:
    """Does the full stop ending at ``dot_end`` (exclusive) belong to an abbreviation?"""
    m = _WORD_BEFORE.search(block, max(0, dot_end - 40), dot_end - 1)
    if not m:
        return False
    word = m.group(1).rstrip(".").lower()
    starter = next_word.lower().strip("\"“‘'") in _STARTERS
    if word in _TITLES:
        return True
    if word in _SOFT:
        return not starter
    if word in _NUMBERED:
        return next_word[:1].isdigit()  # "No. 5", but "said 'No.' Prices rose"
    if word in _ABBREVIATIONS:
        return not starter or word in {"vs", "v", "e.g", "i.e", "cf"}
    if len(word) == 1 and word.isalpha():
        return True  # an initial: "J. K. Rowling", "Harry S. Truman"
    if "." in word:  # "U.S.", "a.m.", "p.m.": a sentence end only before a usual starter
        return not starter
    return False


def _split_block(text: str, start: int, end: int) -> list[tuple[int, int]]:
    block = text[start:end]
    cuts = [0]
    for m in _BOUNDARY.finditer(block):
        cut = m.end()
        if cut >= len(block):
            break
        gap = m.group(1)
        punct = m.group(0)
        if gap is None and not any(ch in _CJK for ch in punct):
            continue  # "3.5", "U.S.A", "...and" : no space, no boundary
        look = cut + (len(gap) if gap else 0)
        ahead = block[look:look + 64].split(maxsplit=1)  # a bounded look keeps the scan linear
        nxt = ahead[0] if ahead else ""
        first = nxt.lstrip("\"“‘'«([¿¡")[:1]
        if not first:
            continue
        if first.islower():
            continue  # '"Why?" she asked.' or an abbreviation inside a sentence
        if punct[0] == "." and _is_false_boundary(block, m.start() + 1, nxt):
            continue
        if _LIST_NUMBER.match(block[cuts[-1]:m.end()]):
            continue  # "1. Third point": a list number, not a sentence
        cuts.append(cut)
    cuts.append(len(block))
    spans = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        piece = block[a:b]
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece.rstrip())
        if trail > lead:
            spans.append((start + a + lead, start + a + trail))
    return spans


def segment(text: str) -> list[Span]:
    """Split ``text`` into sentence spans; see the module docstring for the rules."""
    spans: list[Span] = []
    for b_start, b_end in _line_blocks(text):
        for s, e in _split_block(text, b_start, b_end):
            spans.append(Span(s, e, text[s:e]))
    return spans
