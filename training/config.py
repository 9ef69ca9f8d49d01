"""Typed, validated training configuration (``training/configs/*.json``).

>>> cfg = TrainConfig(epochs=1, context="prev")
>>> cfg.with_overrides(["--lr", "1e-4", "--context", "none"]).lr
0.0001
"""

from __future__ import annotations

import json
import typing
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from claimsift.model.features import CONTEXT_MODES, WINDOW_CONTEXT_TOKENS
from claimsift.model.precision import PRECISIONS
from claimsift.training.dropout import MASKS


@dataclass(frozen=True)
class ExtraSource:
    """An extra annotated file for training (labels may be null: context only) and its loss weight."""

    path: str
    weight: float = 1.0


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs; saved, resolved, in the model card."""

    base: str = "minilm"
    adapter: str = "lora"
    lora_r: int = 16
    lora_alpha: int = 32
    # Dropout on every LoRA input: on a CPU its random masks took 45% of a training step (profiled).
    lora_dropout: float = 0.1
    # On CPU, draw dropout masks from 16-bit slices of 64-bit draws, not bernoulli_ (same distribution;
    # training/dropout.py). "native" keeps PyTorch's; on GPUs the native kernel is always used.
    dropout_masks: str = "bits"
    context: str = "both"
    max_length: int = 128
    window_context: int = WINDOW_CONTEXT_TOKENS  # context "window" only: tokens of each neighbour at a row's edges
    corpus: str = "data/corpus/corpus.jsonl"
    wikinews: str | None = "../shared/wikinews/annotated.jsonl"
    corpus_weight: float = 1.0
    wikinews_weight: float = 1.0
    extra_train: tuple[ExtraSource, ...] = ()
    soft_labels: str | None = None  # teacher probabilities (JSONL: doc, i, scores) for distillation
    soft_weight: float = 0.0
    epochs: float = 3.0
    lr: float = 5e-4
    # The heads start from random weights. With the whole of MPNet at 3e-5 its token head never
    # found a role or cue; heads at 5e-4 found some (cue exact-F1 0 -> 0.39 on test), and
    # `claimsift lowrank --refit-tags` does the rest. None: the heads train at lr like the encoder.
    head_lr: float | None = None
    batch_size: int = 16
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    class_weighting: str = "sqrt"  # none | sqrt | inverse
    tag_weight: float = 0.5
    named_weight: float = 0.2
    early_stopping_patience: int = 2
    eval_steps: int | None = None  # None: evaluate once an epoch
    seed: int = 13
    output_dir: str = "runs/default"  # Trainer checkpoints and logs
    model_dir: str = "model/weights/default"  # where the final model folder is written
    max_train_sentences: int | None = None  # for smoke tests and quick experiments
    calibrate: bool = True
    # Choose the model's min_role_score on the dev records after training (eval/role_threshold.py):
    # without it a new model keeps every role however unsure (the default's role exact-F1 at 0 and at
    # its chosen 0.6: 0.739 and 0.764 on dev + Wikinews dev; eval/results/role_threshold.md).
    tune_role_score: bool = True
    # Mixed precision: "auto" is bf16 where the device multiplies bf16 natively (GPUs since Ampere,
    # CPUs with AMX or AVX512-BF16), else fp32. Weights and optimizer state stay fp32 either way.
    precision: str = "auto"

    def __post_init__(self):
        if self.context not in CONTEXT_MODES:
            raise ValueError(f"context must be one of {CONTEXT_MODES}, got {self.context!r}")
        if self.adapter not in ("lora", "full"):
            raise ValueError(f"adapter must be 'lora' or 'full', got {self.adapter!r}")
        if self.class_weighting not in ("none", "sqrt", "inverse"):
            raise ValueError(f"class_weighting must be none, sqrt or inverse, got {self.class_weighting!r}")
        for name in ("epochs", "lr", "batch_size", "max_length"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.head_lr is not None and self.head_lr <= 0:
            raise ValueError(f"head_lr must be positive, got {self.head_lr}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if not 0 <= self.lora_dropout < 1:
            raise ValueError(f"lora_dropout must be in [0, 1), got {self.lora_dropout}")
        if self.dropout_masks not in MASKS:
            raise ValueError(f"dropout_masks must be one of {MASKS}, got {self.dropout_masks!r}")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")

    @classmethod
    def from_dict(cls, raw: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown config keys {sorted(unknown)}; known keys: {sorted(known)}")
        raw = dict(raw)
        raw["extra_train"] = tuple(
            e if isinstance(e, ExtraSource) else ExtraSource(**e) if isinstance(e, dict) else ExtraSource(str(e))
            for e in raw.get("extra_train", ())
        )
        return cls(**raw)

    @classmethod
    def from_json(cls, path: str | Path) -> TrainConfig:
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise ValueError(f"{path}: cannot read the training config ({e})") from e
        return cls.from_dict(raw)

    def with_overrides(self, argv: list[str]) -> TrainConfig:
        """Apply ``--key value`` pairs, converting each value to the field's type."""
        if len(argv) % 2:
            raise ValueError(f"overrides come as --key value pairs, got {argv}")
        hints = typing.get_type_hints(TrainConfig)
        changes: dict = {}
        for flag, value in zip(argv[::2], argv[1::2], strict=True):
            key = flag.lstrip("-").replace("-", "_")
            if key not in hints:
                raise ValueError(f"unknown option {flag}; known: {sorted(hints)}")
            changes[key] = _convert(key, hints[key], value)
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)


def _convert(key: str, hint, value: str):
    if value.lower() in ("none", "null") and type(None) in typing.get_args(hint):
        return None
    args = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
    target = args[0]
    if target is bool:
        return value.lower() in ("1", "true", "yes")
    if target in (int, float, str):
        try:
            return target(value)
        except ValueError as e:
            raise ValueError(f"--{key}: expected {target.__name__}, got {value!r}") from e
    if key == "extra_train":
        return tuple(ExtraSource(*_split_weight(v)) for v in value.split(","))
    raise ValueError(f"--{key} cannot be set from the command line")


def _split_weight(spec: str) -> tuple[str, float]:
    path, _, weight = spec.partition(":")
    return path, float(weight) if weight else 1.0

