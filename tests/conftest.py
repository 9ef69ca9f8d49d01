"""Tiny random-weight encoders so unit tests never touch real weights or the network."""

from __future__ import annotations

import shutil

import pytest


def make_tiny_base(folder):
    """A 2-layer, 32-wide BERT with the packaged MiniLM tokenizer, saved as a base folder."""
    import torch
    from claimsift.model.bases import resolve_base
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=256)
    BertModel(cfg).save_pretrained(folder, safe_serialization=True)
    src = resolve_base("minilm", verify=False).path
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(src / name, folder / name)
    return folder


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Downloads and merged-weight caches go to a temporary folder, never the user's."""
    import os

    os.environ["CLAIMSIFT_CACHE"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session", autouse=True)
def _fp32_by_default():
    """Equivalence tests compare probabilities to 1e-6, so "auto" means fp32 here whatever the CPU;
    tests of bf16 ask for it by name (tests/test_precision.py)."""
    import os

    os.environ["CLAIMSIFT_PRECISION"] = "fp32"


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory):
    return make_tiny_base(tmp_path_factory.mktemp("tiny-base"))


@pytest.fixture()
def tiny_detector(tiny_base):
    import torch
    from claimsift.model.detector import ClaimDetector

    # seeded: the fresh heads are drawn from torch's global generator, so without a seed they (and
    # what a test sees them predict) would depend on which tests ran before
    torch.manual_seed(0)
    return ClaimDetector.new(str(tiny_base), device="cpu", adapter="full")


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_base, tmp_path_factory):
    """A saved tiny detector folder, usable as ``--model`` on the command line."""
    from claimsift.model.detector import ClaimDetector

    folder = tmp_path_factory.mktemp("tiny-model") / "model"
    ClaimDetector.new(str(tiny_base), device="cpu", adapter="full").save_pretrained(folder)
    return folder
