"""Annotated records -> model features (a ``datasets.Dataset``) and the padding collator."""

from __future__ import annotations

import math

import torch
from claimsift.data.samples import group_documents
from claimsift.model.features import (
    WINDOW_CONTEXT_TOKENS,
    context_pairs,
    encode,
    encode_windows,
    tag_ids,
    window_mask,
)
from claimsift.model.labels import LABEL2ID, LABELS

SOURCE_IDS = {"corpus": 0, "wikinews": 1, "extra": 2}


def build_features(records: list[dict], tokenizer, *, context: str, max_length: int, weight: float = 1.0,
                   source: str = "corpus", soft: dict | None = None, window_context: int = WINDOW_CONTEXT_TOKENS):
    """One feature row per sentence, with its neighbours as context (all sentences of a doc are
    encoded, so unlabelled ones still serve as context; their label is -100)."""
    from datasets import Dataset

    if context == "window":
        return Dataset.from_list(_window_rows(records, tokenizer, max_length, window_context, weight, source, soft))
    rows = []
    sep = tokenizer.sep_token or " "
    for doc, sentences in group_documents(records).items():
        texts = [r["text"] for r in sentences]
        enc = encode(tokenizer, texts, context_pairs(texts, context, sep), max_length)
        for k, r in enumerate(sentences):
            label, named, teacher = _sentence_fields(doc, r, soft)
            rows.append({
                "input_ids": enc["input_ids"][k],
                "attention_mask": enc["attention_mask"][k],
                **({"token_type_ids": enc["token_type_ids"][k]} if "token_type_ids" in enc else {}),
                "sentence_mask": enc["sentence_mask"][k],
                "tags": tag_ids(enc["offset_mapping"][k], enc["sentence_mask"][k], r.get("spans") or {})
                if label != -100 else [-100] * len(enc["input_ids"][k]),
                "labels": label,
                "named": named,
                "weight": float(weight),
                "source_id": SOURCE_IDS[source],
                "soft": teacher,
            })
    return Dataset.from_list(rows)


def _sentence_fields(doc: str, record: dict, soft: dict | None) -> tuple[int, int, list[float]]:
    """A sentence's label id (-100 unlabelled), named flag (-1 unknown) and teacher scores (NaN: none)."""
    label = LABEL2ID[record["label"]] if record.get("label") else -100
    named = -1 if record.get("named") is None else int(bool(record["named"]))
    teacher = (soft or {}).get((doc, record["i"]))
    return label, named, list(teacher) if teacher is not None else [math.nan] * len(LABELS)


def _window_rows(records: list[dict], tokenizer, max_length: int, window_context: int, weight: float, source: str,
                 soft: dict | None) -> list[dict]:
    """One feature row per window (:func:`claimsift.model.features.encode_windows`): token fields
    per token, sentence fields (``labels``, ``named``, ``weight``, ``source_id``, ``soft``) per member."""
    rows = []
    for doc, sentences in group_documents(records).items():
        enc = encode_windows(tokenizer, [[r["text"] for r in sentences]], max_length, window_context)
        for w, ids in enumerate(enc["input_ids"]):
            tags = [-100] * len(ids)
            labels, named, soft_rows = [], [], []
            for i, (a, z) in zip(enc["members"][w], enc["spans"][w], strict=True):
                label, flag, teacher = _sentence_fields(doc, sentences[i], soft)
                labels.append(label)
                named.append(flag)
                soft_rows.append(teacher)
                if label != -100:
                    tags[a:z] = tag_ids(enc["offset_mapping"][i], [1] * (z - a), sentences[i].get("spans") or {})
            rows.append({"input_ids": ids, "attention_mask": [1] * len(ids), "sentence_pos": enc["sentence_pos"][w],
                         "tags": tags, "labels": labels, "named": named, "weight": [float(weight)] * len(labels),
                         "source_id": [SOURCE_IDS[source]] * len(labels), "soft": soft_rows})
    return rows


def has_target(row: dict) -> bool:
    """Whether a feature row has a sentence with a gold label or a teacher's scores (else no loss).

    >>> has_target({"labels": [-100, 2], "soft": [[math.nan] * 5] * 2})
    True
    >>> has_target({"labels": -100, "soft": [math.nan] * 5})
    False
    """
    return _targets(row["labels"], row["soft"]) > 0


def count_sentences(ds) -> int:
    """Sentences that carry a loss in a feature set: its rows, or in the window layout their members."""
    return sum(map(_targets, ds["labels"], ds["soft"]))


def _targets(labels, soft) -> int:
    """How many of a row's sentences have a gold label or a teacher's scores."""
    if isinstance(labels, int):  # the pair layout: one sentence per row
        labels, soft = [labels], [soft]
    return sum(lab != -100 or not math.isnan(s[0]) for lab, s in zip(labels, soft, strict=True))


def drop_conflicts(soft: dict, records: list[dict]) -> tuple[dict, int]:
    """``soft`` without the teacher rows of gold records whose label is not the teacher's argmax.

    Gold wins: a teacher trained before a relabel (or simply wrong) would otherwise pull the student
    back to the old label with a confident target (the 2026-11 "Key Takeaway:" relabels were scored
    no_claim at ~0.95 by a teacher trained before them). Returns the kept rows and how many went.

    >>> soft = {("d", 0): [0.9, 0.1, 0, 0, 0], ("d", 1): [0.9, 0.1, 0, 0, 0], ("u", 0): [0.2, 0.8, 0, 0, 0]}
    >>> gold = [{"doc": "d", "i": 0, "label": LABELS[0]}, {"doc": "d", "i": 1, "label": LABELS[1]}]
    >>> kept, dropped = drop_conflicts(soft, gold)
    >>> sorted(kept), dropped
    ([('d', 0), ('u', 0)], 1)
    """
    kept = dict(soft)
    for r in records:
        scores = soft.get((r["doc"], r["i"]))
        top = None if scores is None else max(range(len(LABELS)), key=scores.__getitem__)
        if r.get("label") and top is not None and top != LABEL2ID[r["label"]]:
            kept.pop((r["doc"], r["i"]), None)  # a record listed twice is dropped once
    return kept, len(soft) - len(kept)


class Collator:
    """Pads token-level fields per batch; stacks sentence-level ones."""

    def __init__(self, pad_token_id: int):
        self.pad = pad_token_id

    def __call__(self, features: list[dict]) -> dict:
        width = max(len(f["input_ids"]) for f in features)

        def pad(key, value):
            return torch.tensor([f[key] + [value] * (width - len(f[key])) for f in features])

        batch = {
            "input_ids": pad("input_ids", self.pad),
            "attention_mask": pad("attention_mask", 0),
            "tags": pad("tags", -100),
        }
        if "sentence_pos" in features[0]:  # window layout: sentence fields padded to the most members
            n = max(len(f["labels"]) for f in features)

            def members(key, value, dtype=None):
                return torch.tensor([f[key] + [value] * (n - len(f[key])) for f in features], dtype=dtype)

            batch |= {
                "sentence_mask": window_mask(pad("sentence_pos", 0), n),
                "labels": members("labels", -100), "named": members("named", -1),
                "weight": members("weight", 0.0, torch.float), "source_id": members("source_id", -1),
                "soft": members("soft", [math.nan] * len(LABELS), torch.float),
            }
            return batch
        batch |= {
            "sentence_mask": pad("sentence_mask", 0),
            "labels": torch.tensor([f["labels"] for f in features]),
            "named": torch.tensor([f["named"] for f in features]),
            "weight": torch.tensor([f["weight"] for f in features], dtype=torch.float),
            "source_id": torch.tensor([f["source_id"] for f in features]),
            "soft": torch.tensor([f["soft"] for f in features], dtype=torch.float),
        }
        if "token_type_ids" in features[0]:
            batch["token_type_ids"] = pad("token_type_ids", 0)
        return batch


def class_weights(records: list[dict], scheme: str) -> torch.Tensor | None:
    """Per-label loss weights from label frequencies (normalised to mean 1)."""
    if scheme == "none":
        return None
    counts = torch.tensor([sum(r.get("label") == lab for r in records) for lab in LABELS], dtype=torch.float)
    w = 1.0 / counts.clamp(min=1.0)
    if scheme == "sqrt":
        w = w.sqrt()
    return w * len(LABELS) / w.sum()
