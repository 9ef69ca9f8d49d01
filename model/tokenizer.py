"""The tokenizer for scoring in ONNX Runtime: the Rust fast tokenizer alone, without transformers.

Loading a base's tokenizer through transformers means importing transformers, a second or two of a
cold start on two CPU cores, for an object of which scoring uses only the Rust core (see
:func:`claimsift.model.features.encode`) and a few facts: the separator token, the padding id,
the model's input names and the [CLS] and [SEP] ids. The first load through transformers records
those facts in the cache, keyed by the base weights' sha256; later ONNX Runtime loads read the
base's ``tokenizer.json`` with ``tokenizers`` and the recorded facts, and never import transformers.

>>> tok = load_core(resolve_base("minilm"))   # doctest: +SKIP
>>> tok.sep_token, tok.pad_token_id, tok.model_input_names  # doctest: +SKIP
('[SEP]', 0, ('input_ids', 'token_type_ids', 'attention_mask'))
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, fields
from pathlib import Path

from claimsift.model.bases import Base, cache_dir

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CoreTokenizer:
    """What scoring reads of a tokenizer: the Rust tokenizer and a few facts."""

    backend_tokenizer: object  # tokenizers.Tokenizer
    sep_token: str | None
    pad_token_id: int | None
    model_input_names: tuple[str, ...]
    cls_token_id: int | None = None  # the window layout builds its rows' [CLS] ... [SEP] itself
    sep_token_id: int | None = None


def core_of(tokenizer) -> CoreTokenizer:
    """The core of a fast transformers tokenizer: what :func:`load_core` reads back from the cache."""
    return CoreTokenizer(tokenizer.backend_tokenizer, tokenizer.sep_token, tokenizer.pad_token_id,
                         tuple(tokenizer.model_input_names), tokenizer.cls_token_id, tokenizer.sep_token_id)


def facts_path(base: Base) -> Path | None:
    # -v2: the facts gained the [CLS] and [SEP] ids; files without them are not read
    return cache_dir() / "tokenizers" / f"{base.sha256[:20]}-v2.json" if base.sha256 else None


def record_facts(tokenizer, base: Base) -> None:
    """Remember a transformers tokenizer's facts for :func:`load_core`; best effort."""
    path = facts_path(base)
    if path is None or path.exists():
        return
    core = core_of(tokenizer)
    facts = {f.name: getattr(core, f.name) for f in fields(CoreTokenizer) if f.name != "backend_tokenizer"}
    facts["model_input_names"] = list(core.model_input_names)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(facts), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        logger.info("tokenizer facts not cached (%s); the next load imports transformers again", e)


def load_core(base: Base) -> CoreTokenizer | None:
    """The core tokenizer of ``base``, or None when its facts were never recorded here."""
    path = facts_path(base)
    file = base.path / "tokenizer.json"
    if path is None or not path.exists() or not file.exists():
        return None
    from tokenizers import Tokenizer

    try:
        facts = json.loads(path.read_text(encoding="utf-8"))
        return CoreTokenizer(Tokenizer.from_file(str(file)), facts["sep_token"], facts["pad_token_id"],
                             tuple(facts["model_input_names"]), facts["cls_token_id"], facts["sep_token_id"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        logger.info("%s: unreadable tokenizer facts (%s); loading through transformers", path, e)
        return None
