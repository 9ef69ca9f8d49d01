"""Three baselines with the predictor contract, to say what the model adds over cheap tricks.

* ``majority``: always the most frequent training label; its scores are the training label
  frequencies.
* ``lexicon``: hand-written rules over words and punctuation (see :class:`LexiconBaseline`).
* ``tfidf-lr``: word and character n-gram TF-IDF into a class-balanced logistic regression.

None of them reads context or predicts a speaker or role; the lexicon reports the cue its
rule matched.

>>> m = MajorityBaseline().fit([{"text": "A.", "label": "no_claim"}, {"text": "B.", "label": "no_claim"}])
>>> m.predict_records([{"text": "Anything."}])[0]["label"]
'no_claim'
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
from claimsift.model.labels import LABELS, SPAN_KINDS, Label
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

logger = logging.getLogger(__name__)

BASELINES = ("majority", "lexicon", "tfidf-lr")


def _prediction(label: str, scores: Sequence[float], cue: tuple[str, int, int] | None = None) -> dict:
    spans: dict[str, list[int] | None] = dict.fromkeys(SPAN_KINDS)
    if cue is not None:
        spans["cue"] = [cue[1], cue[2]]
    return {
        "label": label,
        "scores": [float(s) for s in scores],
        "speaker": None,
        "role": None,
        "cue": cue[0] if cue else None,
        "named": None,
        "spans": spans,
    }


def _labelled(records: Sequence[dict]) -> list[dict]:
    out = [r for r in records if r.get("label") is not None]
    if not out:
        raise ValueError("no labelled training records: the baseline needs records with a 'label'")
    return out


def default_train_records() -> list[dict]:
    """The corpus train split, with a message saying how to build the corpus when it is missing."""
    from claimsift.data.corpus import CORPUS_FILE, load_records

    if not CORPUS_FILE.exists():
        raise FileNotFoundError(
            f"{CORPUS_FILE}: corpus not built; run `claimsift data build`, or pass training records"
        )
    return load_records("train")


class MajorityBaseline:
    """The most frequent training label for every sentence."""

    def __init__(self) -> None:
        self.priors: np.ndarray | None = None

    def fit(self, records: Sequence[dict]) -> MajorityBaseline:
        counts = Counter(r["label"] for r in _labelled(records))
        self.priors = np.array([counts[label] for label in LABELS], dtype=float) / sum(counts.values())
        return self

    def predict_records(self, records: list[dict]) -> list[dict]:
        if self.priors is None:
            raise RuntimeError("MajorityBaseline is not fitted; call fit(records) first")
        # argmax over LABELS order, so ties go to the earlier label and label == top score.
        label = LABELS[int(self.priors.argmax())]
        return [_prediction(label, self.priors) for _ in records]


def _words(*phrases: str) -> str:
    return r"\b(?:" + "|".join(phrases) + r")\b"


# Rules, checked in this order; the first that fires gives the label (see LexiconBaseline).
_IMPERATIVE = re.compile(
    r"^(?:please\s+)?" + _words(
        "share", "leave", "click", "subscribe", "sign up", "read", "follow", "tell us", "join", "contact",
        "watch", "email", "send", "visit", "check out", "don't", "do not", "find out", "register",
        "download", "listen", "comment", "let us know", "see", "try", "remember", "consider",
    ),
    re.IGNORECASE,
)
_READER_QUESTION = re.compile(_words("you", "your", "yours", "we'd", "let us"), re.IGNORECASE)
_BYLINE = re.compile(r"^(?:by|written by|reporting by|editing by)\s+[A-Z]", re.IGNORECASE)
# Weasel phrases. Where a capturing group is present it is the cue (the verb of "experts say",
# the "according to" of "according to reports"), matching how the corpus annotates cues;
# otherwise the whole phrase is the cue ("reportedly", "is believed to").
_WEASELS = tuple(re.compile(pattern, re.IGNORECASE) for pattern in (
    r"\b(?:(?:some|many|other|most) )?(?:experts?|analysts?|economists?|observers|commentators|critics"
    r"|scientists|researchers|sources?|insiders|officials?|studies|research"
    r"|(?:a|one|another|the) (?:survey|poll|study|report)) (say|says|said|believe|believes|warn|warned"
    r"|suggest|suggests|suggested|note|noted|predict|predicted|expect|expected|argue|argued|claim|claimed"
    r"|told|show|shows|showed|have shown|has shown|found|finds)\b",
    r"\b(according to) (?:reports|sources|experts|analysts|a (?:report|study|survey|poll))\b",
    _words(
        r"reportedly", r"allegedly", r"it is (?:said|reported|claimed|understood|thought|believed)",
        r"(?:is|are) (?:widely )?(?:believed|thought|seen|considered|understood|said) (?:to|as)",
        r"(?:people|sources) (?:familiar|close) (?:with|to)", r"there (?:is|was) speculation",
    ),
))
_REPORTING = re.compile(
    _words(
        "said", "says", "say", "told", "tells", "announced", "announces", "stated", "added",
        "adds", "insisted", "insists", "claimed", "wrote", "writes", "tweeted", "according to",
        "argued", "argues", "warned", "warns", "confirmed", "confirms", "denied", "denies", "explained",
        "explains", "noted", "notes", "urged", "urges", "vowed", "promised", "pledged", "admitted",
        "acknowledged", "stressed", "replied", "responded", "asked", "declared", "accused", "wants",
        "hopes", "proposes", "proposed",
    ),
    re.IGNORECASE,
)
# Someone brought in for expertise (LABELS.md rules 1 and 13), named or not.
_EXPERT_ROLE = re.compile(
    _words(
        "economists?", "analysts?", "professor", "researchers?", "scientists?", "Dr", "fellow", "consultant",
        "strategist", "academics?", "pollster", "think[- ]tank", "institute",
    ),
    re.IGNORECASE,
)
# A capitalised word that is not the sentence's first word: a crude proper-name detector.
_NAME = re.compile(r"(?<=\s)[A-Z][a-z]+|^[A-Z][a-z]+(?=\s+(?:[A-Z][a-z]+\s+)*(?:said|says|told))")
_QUOTE = re.compile(r"[\"“”]|(?:^|\s)'\w")
_HEDGE = re.compile(
    _words(
        "may", "might", "could", "would", "should", "likely", "unlikely", "possibly", "perhaps", "probably",
        "expected to", "set to", "appears? to", "seems? to", "suggests?", "potentially", "if",
        "raises questions", "a gamble", "risk", "could be", "looks set", "on course to", "poised to",
        "expect to see", "remains to be seen", "arguably",
    ),
    re.IGNORECASE,
)
_FINAL = re.compile(r"[.!?…][\"'”’)\]]*\s*$")

# The rule's label gets this probability, the others share the rest: the rules have no
# notion of confidence, and uniform-ish scores keep calibration figures meaningful.
LEXICON_CONFIDENCE = 0.6


class LexiconBaseline:
    """Transparent rules, applied in order; the first that fires gives the label.

    1. ``no_claim``: empty text; a heading (no final ``.``, ``!``, ``?`` or ``…``); a byline
       ("By ..."); a sentence starting with an imperative ("Share", "Click", "Sign up", ...);
       a question that addresses the reader ("you", "your").
    2. ``unverifiable_expert_claim``: a weasel phrase: "experts say", "analysts believe",
       "sources said", "according to reports", "reportedly", "allegedly", "studies show",
       "research shows", "is believed to", "is seen as", "a survey found", "people familiar
       with", "there was speculation"; or a reporting verb with an expert's role word
       ("economist", "professor", "Dr", "think tank", ...). Checked before attribution, since
       "Analysts said" would otherwise pass as a name with a reporting verb.
    3. ``attributed_quote``: a reporting verb ("said", "told", "according to", "announced",
       "wants", ...) together with a capitalised name or a quotation mark; or a sentence that
       opens with a quotation mark (a quote whose speaker is in a neighbouring sentence).
    4. ``speculation``: a hedge or modal ("may", "could", "would", "likely", "expected to",
       "if", "a gamble", ...) or any other question (an insinuating one).
    5. ``reported_fact``: everything else.

    The cue is the matched weasel phrase or reporting verb. Scores put
    ``LEXICON_CONFIDENCE`` on the chosen label and share the rest equally.

    >>> LexiconBaseline().predict_records([{"text": "Ann Lee said the plan was fair."}])[0]["cue"]
    'said'
    """

    def fit(self, records: Sequence[dict]) -> LexiconBaseline:
        """Nothing to learn; present so every baseline can be fitted the same way."""
        return self

    @staticmethod
    def classify(text: str) -> tuple[str, tuple[str, int, int] | None]:
        """The label of one sentence and the cue (string, start, end) its rule matched, if any."""
        t = text.strip()
        if not t or not _FINAL.search(t) or _BYLINE.match(t) or _IMPERATIVE.match(t):
            return Label.NO_CLAIM.value, None
        if t.rstrip("\"'”’ ").endswith("?") and _READER_QUESTION.search(t):
            return Label.NO_CLAIM.value, None
        offset = text.find(t)  # cue offsets index the caller's text, not the stripped copy
        for weasel in _WEASELS:
            if m := weasel.search(t):
                g = 1 if m.lastindex else 0
                cue = (m.group(g), m.start(g) + offset, m.end(g) + offset)
                return Label.UNVERIFIABLE_EXPERT_CLAIM.value, cue
        reporting = _REPORTING.search(t)
        if reporting and _EXPERT_ROLE.search(t):
            return Label.UNVERIFIABLE_EXPERT_CLAIM.value, (
                reporting.group(0), reporting.start() + offset, reporting.end() + offset
            )
        if reporting and (_NAME.search(t) or _QUOTE.search(t)) or t[0] in "\"“'‘":
            if reporting is None:
                return Label.ATTRIBUTED_QUOTE.value, None
            return Label.ATTRIBUTED_QUOTE.value, (
                reporting.group(0), reporting.start() + offset, reporting.end() + offset
            )
        if _HEDGE.search(t) or t.rstrip("\"'”’ ").endswith("?"):
            return Label.SPECULATION.value, None
        return Label.REPORTED_FACT.value, None

    def predict_records(self, records: list[dict]) -> list[dict]:
        rest = (1 - LEXICON_CONFIDENCE) / (len(LABELS) - 1)
        out = []
        for r in records:
            label, cue = self.classify(r["text"])
            scores = [LEXICON_CONFIDENCE if lab == label else rest for lab in LABELS]
            out.append(_prediction(label, scores, cue))
        return out


class TfidfLRBaseline:
    """TF-IDF of word 1-2-grams and character 2-5-grams, then class-balanced logistic regression.

    >>> recs = [{"text": "Shares may fall.", "label": "speculation"},
    ...         {"text": "Shares fell.", "label": "reported_fact"}]
    >>> TfidfLRBaseline().fit(recs).predict_records([{"text": "Shares may fall."}])[0]["label"]
    'speculation'
    """

    def __init__(self, *, C: float = 4.0, seed: int = 0) -> None:
        self.pipeline = Pipeline([
            ("features", FeatureUnion([
                ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True)),
                ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
            ])),
            ("lr", LogisticRegression(C=C, class_weight="balanced", max_iter=2000, random_state=seed)),
        ])
        self.fitted = False

    def fit(self, records: Sequence[dict]) -> TfidfLRBaseline:
        records = _labelled(records)
        self.pipeline.fit([r["text"] for r in records], [r["label"] for r in records])
        self.fitted = True
        logger.info("tfidf-lr fitted on %d sentences", len(records))
        return self

    def predict_records(self, records: list[dict]) -> list[dict]:
        if not self.fitted:
            raise RuntimeError("TfidfLRBaseline is not fitted; call fit(records) first")
        if not records:
            return []
        proba = self.pipeline.predict_proba([r["text"] for r in records])
        # Labels absent from training have no column; they get probability 0.
        scores = np.zeros((len(records), len(LABELS)))
        for col, label in enumerate(self.pipeline.classes_):
            scores[:, LABELS.index(label)] = proba[:, col]
        return [_prediction(LABELS[int(row.argmax())], row) for row in scores]


def make_baseline(name: str, train_records: Sequence[dict] | None = None):
    """A fitted baseline by name; ``train_records`` default to the corpus train split.

    >>> make_baseline("lexicon").__class__.__name__
    'LexiconBaseline'
    """
    if name == "lexicon":
        return LexiconBaseline()
    classes = {"majority": MajorityBaseline, "tfidf-lr": TfidfLRBaseline}
    if name not in classes:
        raise ValueError(f"unknown baseline {name!r}; expected one of {list(BASELINES)}")
    return classes[name]().fit(default_train_records() if train_records is None else train_records)
