"""``ClaimDetector``: segment a draft, label each sentence in context, extract attribution.

>>> from claimsift import ClaimDetector                      # doctest: +SKIP
>>> det = ClaimDetector.from_pretrained()                   # the shipped model, offline
>>> results = det.score("Dr. Anya Petrova, a geopolitical analyst at the Institute for "
...                     "Strategic Studies, notes, \\"The Miami talks are a gamble.\\"")
>>> results[0].label, results[0].attribution.speaker.text
('unverifiable_expert_claim', 'Dr. Anya Petrova')
"""

from __future__ import annotations

import json
import logging
import os
import sys
import warnings
import weakref
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from claimsift.model import host
from claimsift.model.bases import (
    Base,
    IntegrityError,
    cache_dir,
    cached_file_ok,
    commit_cached_file,
    resolve_base,
    sha256_file,
    verify_file,
)
from claimsift.model.features import CONTEXT_MODES, WINDOW_CONTEXT_TOKENS, window_mask
from claimsift.model.host import HostSpec, Packed
from claimsift.model.labels import LABELS, TAGS
from claimsift.model.lanes import start_lanes
from claimsift.model.precision import limit_onednn_cache, requested, resolve_precision
from claimsift.model.results import Results, SentenceResult
from claimsift.model.segment import Span, segment
from claimsift.model.tokenizer import CoreTokenizer, core_of, load_core, record_facts

if TYPE_CHECKING:
    import torch
    from claimsift.model.network import ClaimNet

logger = logging.getLogger(__name__)

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
SHIPPED = {"default": WEIGHTS_DIR / "default", "accurate": WEIGHTS_DIR / "accurate"}
CONFIG_NAME = "claimsift.json"
HEADS_NAME = "heads.safetensors"
ENCODER_NAME = "encoder.safetensors"
ADAPTER_DIR = "adapter"
FORMAT_VERSION = 1
CPU_BATCH_SIZE = 64
CHUNK = 2048  # sentences tokenized, sorted and scored together; bounds memory on huge inputs
GPU_BATCH_SIZE = 512
# Host-side processes on a GPU machine, at most (two cores are left to the process feeding the GPU).
# On a 16-core H200 machine 6 ran ahead of 12 and of none (eval/results/speed_gpu.md, medians of two
# runs); 12 had varied most between runs (7,900 to 13,100 sentences/s). Unswept between 6 and 12.
MAX_AUTO_WORKERS = 6
# bf16 on a CPU: each new batch shape makes oneDNN build (JIT-compile) new matmul kernels, which on
# an AMX Xeon cost more than the product itself (a 384x1536 layer pair: 60 ms a call when every call
# has a new shape, 22 ms when shapes repeat). Widths rounded up to a multiple of this repeat shapes
# across batches for about 3% more tokens. fp32 runs on MKL's prebuilt kernels and is not padded.
# Only rows with context are rounded: on sentences alone (context "none", ~30 tokens) the padding
# is a quarter more tokens, and `accurate` labelled 76 sentences/s unrounded against 56 rounded
# (runs 76-94 against 56-71, same labels; eval/results/speed_xeon_accurate.md), while the window
# model lost without it (219 against 318; eval/results/speed_xeon_cli.md).
BF16_CPU_WIDTH_MULTIPLE = 16
# Batches run through the network at once on a CPU, each from its own thread. One forward pass
# leaves cores idle: the Python between operations, and the small operations between the matrix
# products, run on one thread. Two at once, each on its share of the intra-op threads
# (claimsift.model.lanes), labelled 448 sentences/s against 378 for one (medians of two runs) on a
# 2-core AMX Xeon, same labels (eval/results/speed_xeon.md, whose bench has a one-lane row on every
# CPU run). Three lanes were no faster (ad hoc).
# ONNX Runtime shares one thread pool between concurrent runs, and two lanes were 9% slower
# there, so it keeps one. ``lanes=1`` runs one batch at a time on all the threads.
CPU_LANES = 2


class ModelFolderError(ValueError):
    """A model folder that is not a valid claimsift model."""


@dataclass(frozen=True)
class DetectorConfig:
    """Everything needed to rebuild a detector; saved as ``claimsift.json``."""

    base: str = "minilm"
    base_sha256: str | None = None
    context: str = "both"
    max_length: int = 128
    window_context: int = WINDOW_CONTEXT_TOKENS  # context "window": tokens of each neighbour at a row's edges
    adapter: str = "lora"  # "lora": peft adapter on the base; "full": all encoder weights saved
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    lora_targets: str | list[str] = "all-linear"
    dropout: float = 0.1
    temperature: float = 1.0
    # Roles the tagger gives a lower mean probability are left out; chosen on corpus dev and
    # Wikinews dev by `python -m claimsift.eval.role_threshold` (0 keeps every role).
    min_role_score: float = 0.0
    labels: tuple[str, ...] = LABELS
    tags: tuple[str, ...] = TAGS
    files: dict[str, str] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def __post_init__(self):
        if self.context not in CONTEXT_MODES:
            raise ValueError(f"context must be one of {CONTEXT_MODES}, got {self.context!r}")
        if self.window_context < 0:
            raise ValueError(f"window_context must be 0 or more tokens, got {self.window_context}")
        if self.context == "window" and self.max_length < 2 * self.window_context + 16:
            raise ValueError(f"context 'window' packs sentences into rows of max_length tokens with "
                             f"{self.window_context} of context at each edge; max_length {self.max_length} is too "
                             f"short (at least {2 * self.window_context + 16}; the shipped window model uses 256)")
        if self.adapter not in ("lora", "full"):
            raise ValueError(f"adapter must be 'lora' or 'full', got {self.adapter!r}")
        if not 0.0 <= self.min_role_score < 1.0:
            raise ValueError(f"min_role_score must be in [0, 1), got {self.min_role_score}")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}")

    @classmethod
    def from_json(cls, path: Path) -> DetectorConfig:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise ModelFolderError(f"{path}: unreadable model config ({e})") from e
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(raw) - known
        if unknown:
            raise ModelFolderError(f"{path}: unknown config keys {sorted(unknown)}")
        raw["labels"] = tuple(raw.get("labels", ()))
        raw["tags"] = tuple(raw.get("tags", ()))
        if raw["labels"] != LABELS or raw["tags"] != TAGS:
            raise ModelFolderError(
                f"{path}: the model's labels {list(raw['labels'])} or tags do not match this version's "
                f"schema {list(LABELS)}; retrain it with this version of claimsift."
            )
        return cls(**raw)


def _device(device: str | torch.device | None) -> str:
    """The device a detector runs on, as a name (``"cpu"``, ``"cuda"``, ``"cuda:1"``).

    Without an explicit device, torch is asked whether CUDA is there only when torch is loaded
    already or the machine has a GPU driver: an ONNX Runtime load on a CPU never imports torch,
    whose import was most of the command line's cold start (2.4 s of it on a 2-core Xeon).
    """
    if device:
        return str(device)
    if "torch" not in sys.modules and not _gpu_driver():
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _kind(device) -> str:
    """``"cpu"`` or ``"cuda"``: a device name's (or ``torch.device``'s) type."""
    return str(device).split(":")[0]


def _gpu_driver() -> bool:
    """Whether this machine may have a CUDA (or ROCm) GPU for torch: its driver's device files on
    Linux; anywhere else, assume so and let torch tell."""
    if not sys.platform.startswith("linux"):
        return True
    return any(os.path.exists(f) for f in ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dxg"))  # dxg: WSL2


def width_multiple(context: str, half: bool, device_type: str) -> int:
    """The multiple a batch's width is padded to: 16 for bf16 on a CPU with context in its rows, else 1.

    >>> [width_multiple(c, True, d) for c, d in (("window", "cpu"), ("none", "cpu"), ("window", "cuda"))]
    [16, 1, 1]
    """
    return BF16_CPU_WIDTH_MULTIPLE if half and device_type == "cpu" and context != "none" else 1


def pick_runtime(runtime: str, device_type: str, asked: str, quantize: bool, bf16_cpu: bool) -> str:
    """The runtime a load runs in, ``"torch"`` or ``"onnx"``: where ``runtime="auto"`` lands.

    On a GPU, torch. On a CPU, torch where the run is bf16 (asked for, or ``precision="auto"`` on a
    CPU that multiplies bf16 natively: ``bf16_cpu``), and ONNX Runtime otherwise. On an AMX Xeon
    PyTorch bf16 labelled 2.10x as fast as ONNX Runtime (eval/results/speed_xeon_cli.md). On two
    EPYC cores without native bf16 both ran fp32 at about the same rate, with the same labels (236
    and 220 sentences a second; 231 and 236 in the run before), and ONNX Runtime started 8 s sooner,
    without importing torch, and peaked at 690 MB against 993 (eval/results/speed_epyc.md); on the bf16 EPYC of
    eval/results/speed.md, before PyTorch ran two lanes, its fp32 was 1.61x PyTorch's.

    >>> [pick_runtime("auto", "cpu", "auto", False, bf16) for bf16 in (True, False)]
    ['torch', 'onnx']
    >>> pick_runtime("auto", "cpu", "fp32", False, True), pick_runtime("auto", "cuda", "auto", False, False)
    ('onnx', 'torch')
    """
    if runtime != "auto":
        return runtime
    if device_type != "cpu" or asked == "bf16":
        return "torch"
    return "torch" if asked == "auto" and bf16_cpu and not quantize else "onnx"


def _takes_numpy(net) -> bool:
    """Whether ``net`` runs on NumPy arrays (ONNX Runtime) rather than torch tensors."""
    return getattr(net, "takes_numpy", False)


_OFFLINE = {"local_files_only": True, "trust_remote_code": False}


def _workers(workers: int | None, device: str, tokenizer) -> int:
    """How many host-side worker processes a detector uses (see ``ClaimDetector.from_pretrained``)."""
    if workers is not None and workers < 0:
        raise ValueError(f"workers must be 0 or more, got {workers}")
    if getattr(tokenizer, "backend_tokenizer", None) is None:  # a slow tokenizer cannot travel to workers
        if workers:
            logger.warning("workers need a fast (Rust) tokenizer; tokenizing in this process")
        return 0
    if workers is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        return max(0, min(cores - 2, MAX_AUTO_WORKERS)) if _kind(device) == "cuda" else 0
    return workers


def _lanes(lanes: int | None, device: str, net) -> int:
    """How many batches a detector runs through its network at once (see ``ClaimDetector.from_pretrained``)."""
    if lanes is None:
        return CPU_LANES if _kind(device) == "cpu" and not _takes_numpy(net) else 1
    if lanes < 1:
        raise ValueError(f"lanes must be 1 or more, got {lanes}")
    if lanes > 1 and _kind(device) != "cpu":
        raise ValueError("lanes is for CPU inference: a GPU runs one batch at a time, queued without waiting")
    return lanes


def _load_tokenizer(base: Base):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(base.path), **_OFFLINE)
    record_facts(tokenizer, base)  # so that later ONNX Runtime loads can skip transformers
    return tokenizer


def _load_encoder(base: Base, dropout: float | None = None):
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the CLI draws its own progress; load bars are noise
    cfg = AutoConfig.from_pretrained(str(base.path), **_OFFLINE)
    if dropout is not None:
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
            if hasattr(cfg, name):
                setattr(cfg, name, dropout)
    encoder = AutoModel.from_pretrained(str(base.path), config=cfg, use_safetensors=True, **_OFFLINE)
    return encoder, _load_tokenizer(base)


def _merged_lora_encoder(encoder, folder: Path, cfg: DetectorConfig):
    """The base encoder with the LoRA adapter merged in by peft.

    The merged weights are cached (safetensors, with their sha256) under the cache folder, keyed by
    the adapter's and the base's hashes, so later loads skip importing peft: a cold start is seconds
    shorter. An unwritable cache folder only means no cache.
    """
    from safetensors.torch import load_file, save_file

    adapter_sha = cfg.files.get(f"{ADAPTER_DIR}/adapter_model.safetensors", "")
    cache = cache_dir() / "merged" / f"{adapter_sha[:16]}-{(cfg.base_sha256 or 'nobase')[:16]}.safetensors"
    if adapter_sha and cache.exists():
        if cached_file_ok(cache):
            encoder.load_state_dict(load_file(str(cache)))
            return encoder
        # A damaged cache is rebuilt from the adapter, whose own hash was checked above.
        logger.warning("%s does not match its recorded sha256; merging the adapter again", cache)
    from peft import PeftModel

    with warnings.catch_warnings():  # peft calls a transformers API deprecated for v6: not ours to fix
        warnings.simplefilter("ignore", FutureWarning)
        encoder = PeftModel.from_pretrained(encoder, str(folder / ADAPTER_DIR)).merge_and_unload()
    if adapter_sha:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp")
            save_file({k: v.contiguous() for k, v in encoder.state_dict().items()}, str(tmp))
            commit_cached_file(tmp, cache)
        except OSError as e:
            logger.info("merged weights not cached (%s); the next load merges again", e)
    return encoder


def _onnx_net(cls, folder: Path, cfg: DetectorConfig, quantize: bool):
    """The ONNX Runtime network of a verified model folder, exporting and caching it the first time."""
    from claimsift.model import runtime as rt

    graph = rt.export_path(cfg.files, cfg.base_sha256, quantize=quantize)
    if not cached_file_ok(graph):
        built = cls.from_pretrained(folder, device="cpu", runtime="torch", precision="fp32")
        window = cfg.context == "window"  # window rows carry no token types: one segment per row
        rt.export(built.net, graph, window=window,
                  token_types=not window and "token_type_ids" in built.tokenizer.model_input_names,
                  quantize=quantize)
    return rt.OnnxNet(graph)


class ClaimDetector:
    """The claimsift model: ``from_pretrained``, ``save_pretrained``, ``classify``, ``score``."""

    def __init__(self, net: ClaimNet, tokenizer, config: DetectorConfig, device: str | None = None,
                 batch_size: int | None = None, precision: str = "auto", workers: int | None = None,
                 lanes: int | None = None):
        self.net = net
        self.tokenizer = tokenizer
        self.config = config
        self._device_name = _device(device)
        self.device_type = _kind(self._device_name)  # "cpu" or "cuda"
        # bf16 where the hardware has it (see claimsift.model.precision); ONNX graphs run as exported
        self.dtype = None if _takes_numpy(net) else resolve_precision(precision, self._device_name)
        # a GPU needs large batches to be busy; on a CPU larger ones gain nothing and cost memory
        self.batch_size = batch_size or (GPU_BATCH_SIZE if self.device_type == "cuda" else CPU_BATCH_SIZE)
        self.workers = _workers(workers, self._device_name, tokenizer)
        self._executor = None
        self.lanes = _lanes(lanes, self._device_name, net)
        self._lane_pool = None
        # intra-op threads per lane (None: the cores split between the lanes); an attribute, so a
        # benchmark can give each lane all of them, as before lanes had their own
        self.lane_threads: int | None = None
        # batches are padded to a multiple of this width (1: to their longest row); an attribute, so a
        # benchmark can turn the rounding off
        self.width_multiple = width_multiple(self.config.context, self.dtype is not None, self.device_type)
        self.net.to(self._device_name)
        self.net.eval()

    @property
    def device(self) -> torch.device:
        """The ``torch.device`` the network runs on (read here, torch is imported if it was not)."""
        import torch

        return torch.device(self._device_name)

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def new(cls, base: str = "minilm", *, device: str | None = None, precision: str = "auto",
            **config) -> ClaimDetector:
        """An untrained detector on ``base`` (a name, folder or cached hub name), for training.

        ``precision`` is the mixed precision for training and inference (weights stay fp32).
        """
        from claimsift.model.network import ClaimNet

        resolved = resolve_base(base)
        cfg = DetectorConfig(base=base, base_sha256=resolved.sha256, **config)
        encoder, tokenizer = _load_encoder(resolved, cfg.dropout)
        if cfg.adapter == "lora":
            from peft import LoraConfig, get_peft_model

            lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                              target_modules=cfg.lora_targets, bias="none")
            encoder = get_peft_model(encoder, lora)
        net = ClaimNet(encoder, encoder.config.hidden_size, cfg.dropout)
        return cls(net, tokenizer, cfg, device, precision=precision)

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike | None = None, *, device: str | None = None,
                        batch_size: int | None = None, quantize: bool = False, runtime: str = "auto",
                        precision: str = "auto", workers: int | None = None,
                        lanes: int | None = None) -> ClaimDetector:
        """Load ``default`` (the shipped model), ``accurate``, or a saved model folder; offline.

        ``runtime="onnx"`` (CPU) runs the network in ONNX Runtime from a graph exported once and
        cached (see :mod:`claimsift.model.runtime`); later loads skip building the torch encoder,
        and without ``device`` on a machine with no GPU driver never import torch at all.
        ``runtime="auto"`` (the default) is the faster of the two for this machine
        (:func:`pick_runtime`): torch on a GPU and on a CPU that multiplies bf16 natively, ONNX
        Runtime on other CPUs (most laptops) and for fp32 or int8; it falls back to torch, with a
        warning, when a graph cannot be built. Training, saving and refitting heads need ``runtime="torch"``.
        ``precision`` is ``"auto"`` (bf16 where native, else fp32), ``"fp32"`` or ``"bf16"``; it
        applies to the torch runtime without int8.
        ``quantize=True`` (CPU only) uses int8 weights (dynamic quantization, in either runtime):
        faster, but activation scales depend on the batch, so probabilities then vary slightly
        with batch composition. eval/results/speed.md measures what each choice gains and costs.
        ``workers`` is how many processes tokenize and decode beside the one running the network:
        ``None`` picks them (on a GPU, the machine's cores less two, at most 6; on a CPU, none,
        since the network itself needs the cores); see :meth:`close`.
        ``lanes`` is how many batches run through the network at once on a CPU, each from its own
        thread with its share of ``torch.get_num_threads()`` (``None``: ``CPU_LANES``, 2, in PyTorch
        on a CPU; 1 in ONNX Runtime, where two were slower, and on a GPU, which takes no other value).
        """
        key = str(name_or_path) if name_or_path is not None else "default"
        folder = SHIPPED.get(key, Path(key))
        cfg_path = folder / CONFIG_NAME
        if not cfg_path.exists():
            if key == "accurate":
                raise ModelFolderError(
                    f"{folder}: the accurate (MPNet) model is not in this install. Build it with: claimsift "
                    "download mpnet && claimsift train --config training/configs/accurate.json && claimsift lowrank "
                    "--model runs/accurate/full --rank 32 --out model/weights/accurate"
                )
            hint = ("the shipped model is missing from this install; reinstall claimsift"
                    if key in SHIPPED else "expected a folder written by save_pretrained or claimsift train")
            raise ModelFolderError(f"{folder}: no {CONFIG_NAME} ({hint}).")
        cfg = DetectorConfig.from_json(cfg_path)
        for fname, digest in cfg.files.items():
            fpath = folder / fname
            if not fpath.exists():
                raise ModelFolderError(f"{folder}: {fname} is missing")
            verify_file(fpath, digest)
        base = resolve_base(cfg.base)
        if cfg.base_sha256 and base.sha256 and base.sha256 != cfg.base_sha256:
            raise IntegrityError(
                f"{folder} was trained on base {cfg.base} with sha256 {cfg.base_sha256}, but the installed "
                f"base has {base.sha256}. Install the base the model card names."
            )
        if runtime not in ("torch", "onnx", "auto"):
            raise ValueError(f"runtime must be 'torch', 'onnx' or 'auto', got {runtime!r}")
        on_cpu = _kind(_device(device)) == "cpu"
        if (quantize or runtime == "onnx") and not on_cpu:
            raise ValueError("quantize=True and runtime='onnx' are for CPU inference; on a GPU the model runs in bf16")
        asked = requested(precision)  # the CLAIMSIFT_PRECISION pin counts as asking
        if asked == "bf16" and (quantize or runtime == "onnx"):
            raise ValueError("precision='bf16' runs in torch without int8: drop quantize or runtime='onnx'")
        from claimsift.model.precision import cpu_lists_bf16  # looked up here, so a test can stand in for it

        bf16_cpu = on_cpu and cpu_lists_bf16()
        if pick_runtime(runtime, "cpu" if on_cpu else "cuda", asked, quantize, bf16_cpu) == "onnx":
            try:
                net = _onnx_net(cls, folder, cfg, quantize)
                return cls(net, load_core(base) or _load_tokenizer(base), cfg, "cpu", batch_size, "fp32", workers,
                           lanes)
            except Exception as e:  # noqa: BLE001 - "auto" must still score when a graph cannot be built
                if runtime == "onnx":
                    raise
                logger.warning("%s: ONNX Runtime path unavailable (%s); running in torch", folder, e)
        import torch  # here, not at the top: a load that ends in ONNX Runtime never imports it
        from claimsift.model.network import ClaimNet
        from safetensors.torch import load_file

        encoder, tokenizer = _load_encoder(base)
        if cfg.adapter == "lora":
            encoder = _merged_lora_encoder(encoder, folder, cfg)
        else:
            encoder.load_state_dict(load_file(str(folder / ENCODER_NAME)))
        net = ClaimNet(encoder, encoder.config.hidden_size, cfg.dropout)
        missing, unexpected = net.load_state_dict(load_file(str(folder / HEADS_NAME)), strict=False)
        bad = [k for k in missing if not k.startswith("encoder.")] + list(unexpected)
        if bad:
            raise ModelFolderError(f"{folder}/{HEADS_NAME}: head weights do not fit ({bad[:4]})")
        if quantize:
            if cfg.base != "minilm":
                # Measured: PyTorch's per-tensor int8 took the MPNet model from 0.933 to 0.430 test
                # macro-F1 (eval/results/speed.md); ONNX Runtime's per-channel int8 cost 1 point.
                logger.warning("int8 in PyTorch is measured only on the MiniLM base (it broke MPNet); "
                               "use runtime='onnx' with quantize=True for %s", cfg.base)
            net = torch.ao.quantization.quantize_dynamic(net.eval(), {torch.nn.Linear}, dtype=torch.qint8)
        det = cls(net, tokenizer, cfg, device, batch_size, "fp32" if quantize else precision, workers, lanes)
        if det.dtype is not None and det.device_type == "cpu":
            # Measured: encoder weights stored in bf16 score 15-60% faster on a CPU than casting
            # them at every call under autocast (the heads stay fp32 for the softmax).
            det.net.encoder.to(det.dtype)
            limit_onednn_cache()
        return det

    def save_pretrained(self, path: str | os.PathLike, *, card: str | None = None) -> Path:
        """Write config, weights (safetensors only) and model card; records every file's sha256."""
        import torch
        from claimsift.model.network import ClaimNet
        from safetensors.torch import save_file

        if not isinstance(self.net, ClaimNet):
            raise TypeError("save_pretrained needs the torch weights: load the model with runtime='torch'")
        # A model loaded in bf16 has its whole encoder cast; saving it would write the cast weights.
        # LoRA matrices alone may be narrower: `claimsift lowrank` stores its extracted adapter in fp16.
        if any(p.dtype != torch.float32 for n, p in self.net.named_parameters()
               if p.is_floating_point() and ".lora_" not in n):
            raise TypeError("save_pretrained needs fp32 weights: load the model with precision='fp32'")
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        files: list[str] = [HEADS_NAME]
        heads = {k: v.detach().cpu().contiguous() for k, v in self.net.heads_state_dict().items()}
        save_file(heads, str(folder / HEADS_NAME))
        enc = self.net.encoder
        if self.config.adapter == "lora" and hasattr(enc, "peft_config"):
            enc.save_pretrained(str(folder / ADAPTER_DIR))
            # peft writes a template card ("More Information Needed"); the model card is ours.
            (folder / ADAPTER_DIR / "README.md").unlink(missing_ok=True)
            files += [f"{ADAPTER_DIR}/adapter_model.safetensors", f"{ADAPTER_DIR}/adapter_config.json"]
        else:
            state = {k: v.detach().cpu().contiguous() for k, v in enc.state_dict().items()}
            save_file(state, str(folder / ENCODER_NAME))
            files.append(ENCODER_NAME)
            self.config = replace(self.config, adapter="full")
        digests = {f: sha256_file(folder / f) for f in files}
        self.config = replace(self.config, files=digests)
        (folder / CONFIG_NAME).write_text(json.dumps(asdict(self.config), indent=2) + "\n", encoding="utf-8")
        if card is not None:
            (folder / "README.md").write_text(card, encoding="utf-8")
        return folder

    # ---- inference --------------------------------------------------------------------
    @property
    def host(self) -> HostSpec:
        """What the host side (tokenizing, packing, decoding; :mod:`claimsift.model.host`) needs."""
        return HostSpec(self.tokenizer, self.config.context, self.config.max_length, self.config.window_context,
                        self.config.min_role_score)

    @property
    def window_rows(self) -> int:
        """Rows per batch in the window layout: 8 on a CPU (``batch_size`` 64), 64 on a GPU.

        A 256-token row holds several sentences, so the same ``batch_size`` gives fewer rows than
        sentences. 8 rows a batch came from an ad-hoc sweep of 4 to 32 on two CPU cores, not from a
        repository command; the differences were within the noise of single runs. On a GPU only the
        64-row default has been run (eval/results/speed_gpu.md), not a sweep.
        """
        return max(1, self.batch_size // 8)

    def _batches(self, packed: Packed):
        """``(rows, inputs)`` for each batch of a packed group, in length order, on the device."""
        size = self.window_rows if packed.members is not None else self.batch_size
        for b in range(0, len(packed.order), size):
            e = min(b + size, len(packed.order))
            rows = packed.order[b:e].tolist()
            inputs = self._inputs(packed.arrays, packed.lengths, b, e)
            if packed.members is not None:  # an empty member shows no position, so the count is given
                inputs["sentence_mask"] = window_mask(inputs.pop("sentence_pos"), int(packed.members[rows].max()))
            yield rows, inputs

    def _inputs(self, arrays: dict, lengths, b: int, e: int) -> dict:
        """The network's inputs for sorted rows ``b:e`` of a packed group, on the detector's device
        (NumPy arrays for a network that takes them, as ONNX Runtime does)."""
        # rounded up, but never past max_length (the encoder's position table may end there)
        width = min(-(-int(lengths[e - 1]) // self.width_multiple) * self.width_multiple, self.config.max_length)
        if _takes_numpy(self.net):
            inputs = {k: _padded(v[b:e, :width], width) for k, v in arrays.items()}
            inputs["attention_mask"] = (np.arange(width) < lengths[b:e, None]).astype(np.int64)
            return inputs
        import torch

        inputs = {k: torch.from_numpy(_padded(v[b:e, :width], width)) for k, v in arrays.items()}
        inputs["lengths"] = torch.from_numpy(lengths[b:e])
        if self.device_type == "cuda":  # pinned, so the copies overlap the previous batch's work
            device = self.device
            inputs = {k: v.pin_memory().to(device, non_blocking=True) for k, v in inputs.items()}
        else:
            inputs = {k: v.contiguous() for k, v in inputs.items()}
        lens = inputs.pop("lengths")
        inputs["attention_mask"] = (torch.arange(width, device=lens.device) < lens[:, None]).long()
        return inputs

    def _run(self, inputs: dict) -> tuple[list, object]:
        """The network on one batch: label probabilities, named probabilities, tag logits (or
        probabilities on a GPU, copied back without blocking; ``done`` marks when they arrive)."""
        if _takes_numpy(self.net):
            out = self.net(**inputs)
            named = -np.logaddexp(0, -out["named_logits"])  # log of the sigmoid, without overflow
            return [host.softmax(out["label_logits"] / self.config.temperature), np.exp(named),
                    out["tag_logits"]], None
        import torch

        dtype = self.dtype
        with torch.autocast(self.device_type, dtype=dtype, enabled=dtype is not None):
            out = self.net(**inputs)
        outputs = [torch.softmax(out["label_logits"].float() / self.config.temperature, -1),
                   torch.sigmoid(out["named_logits"].float()), out["tag_logits"].float()]
        done = None
        if self.device_type == "cuda":  # start the copies back now; read them after the next batch is queued
            outputs[2] = torch.softmax(outputs[2], -1)  # cheap here; on a CPU only attributed rows need it
            outputs = [t.to("cpu", non_blocking=True) for t in outputs]
            done = torch.cuda.Event()
            done.record()
        return outputs, done

    def _launch(self, packed: Packed) -> list[tuple]:
        """Queue every batch of a group: ``(rows, outputs, done)`` each (see :meth:`_run`).

        With ``lanes`` above 1 the batches go to that many threads and ``outputs`` is a future:
        this thread returns at once and decodes the previous group while they run.
        """
        if self.lanes == 1:
            return [(rows, *self._run(inputs)) for rows, inputs in self._batches(packed)]
        if self._lane_pool is None:
            self._lane_pool = start_lanes(self.lanes, self.lane_threads)
        return [(rows, self._lane_pool.submit(self._run_in_lane, inputs), None)
                for rows, inputs in self._batches(packed)]

    def _run_in_lane(self, inputs: dict) -> list:
        # inference_mode is per thread: the caller's does not reach a lane
        with self._inference():
            return self._run(inputs)[0]

    def _inference(self):
        """torch's inference mode for a torch network; nothing for one that runs on NumPy arrays."""
        if _takes_numpy(self.net):
            return nullcontext()
        import torch

        return torch.inference_mode()

    @staticmethod
    def _read_back(launched: list[tuple]) -> tuple[list[tuple], bool]:
        """A launched group's outputs as NumPy, once they have arrived: ``(batches, normalized)``."""
        batches = []
        for rows, outputs, done in launched:
            if done is not None:
                done.synchronize()
            if isinstance(outputs, Future):
                outputs = outputs.result()
            batches.append((rows, *(t if isinstance(t, np.ndarray) else t.numpy() for t in outputs)))
        return batches, bool(launched) and launched[0][2] is not None

    def _grouped(self, documents: Sequence[Sequence[str]], chunk: int = CHUNK):
        """Results for whole documents, one list per group of about ``chunk`` sentences, in order.

        Memory stays flat with input size: a group is tokenized, run and decoded, then dropped.
        Within a group, rows are sorted by length so batches carry little padding. The next group
        is tokenized and packed while the model runs on this one, and a group's outputs are
        decoded once the next group is queued (on a GPU it runs meanwhile). The host side runs in
        a background thread and this one (the fast tokenizer releases the GIL), or with
        ``workers`` in worker processes, so that this process only feeds the network; at most
        about two groups per worker are then in flight either side.
        """
        parts = self._groups(documents, chunk)
        if self.workers:
            prepared, finish, backlog = self._in_workers(parts), self._finish_in_workers, 2 * self.workers
        else:
            prepared, finish, backlog = self._in_thread(parts), self._finish_here, 0
        pending, finishing = None, deque()
        with self._inference(), host.collector_paused():
            for docs, enc, packed in prepared:
                launched = self._launch(packed)
                if pending is not None:
                    finishing.append(finish(pending[0], pending[1], *self._read_back(pending[2])))
                pending = (docs, enc, launched)
                while finishing and (finishing[0].ready() or len(finishing) > backlog):
                    yield finishing.popleft().get()
            if pending is not None:
                finishing.append(finish(pending[0], pending[1], *self._read_back(pending[2])))
            while finishing:
                yield finishing.popleft().get()

    def _groups(self, documents: Sequence[Sequence[str]], chunk: int = CHUNK) -> list[list[list[str]]]:
        """The groups :meth:`_grouped` scores in turn: tapering at both ends when workers prepare
        and finish them (see :func:`claimsift.model.host.groups`)."""
        return host.groups(documents, chunk, taper=bool(self.workers))

    def _in_thread(self, parts: list[list[list[str]]]):
        """``(documents, encoding, packed)`` per group, the next one prepared in a background thread."""
        spec = self.host

        def prepare(docs):
            enc = host.encode_group(spec, docs)
            return docs, enc, host.pack(spec, enc)

        return _prefetched(prepare, parts)

    def _finish_here(self, docs, enc, batches, normalized) -> _Finished:
        return _Finished(host.finish(self.host, docs, enc, batches, normalized))

    def _in_workers(self, parts: list[list[list[str]]]):
        """``(documents, layout, packed)`` per group, packed in the workers, ``workers + 1`` groups ahead.

        The encoding stays in the worker; its row layout comes back with the rows for the worker
        that finishes the group (see :func:`claimsift.model.host.finish_in_worker`).
        """
        pool = self._pool()
        depth = self.workers + 1
        preparing = deque(pool.apply_async(host.prepare_in_worker, (docs,)) for docs in parts[:depth])
        for k, docs in enumerate(parts):
            packed = preparing.popleft().get()
            if k + depth < len(parts):
                preparing.append(pool.apply_async(host.prepare_in_worker, (parts[k + depth],)))
            yield docs, packed.layout, packed

    def _finish_in_workers(self, docs, layout, batches, normalized):
        return self._pool().apply_async(host.finish_in_worker, (docs, batches, normalized, layout))

    def _pool(self):
        """The worker processes, all started on first use and kept for later calls (see :meth:`close`).

        A ``multiprocessing`` pool rather than ``ProcessPoolExecutor``: the executor starts a
        process only when a task finds none idle, so on an H200 workers were still being started,
        seconds each, in the middle of a timed batch; the pool starts them all at once.
        """
        if self._executor is None:
            import multiprocessing as mp

            spec = self.host
            if not isinstance(spec.tokenizer, CoreTokenizer):  # workers need only its Rust core: no transformers
                spec = replace(spec, tokenizer=core_of(spec.tokenizer))
            # spawn: forking a process that holds CUDA and the tokenizer's threads is unsafe
            self._executor = mp.get_context("spawn").Pool(self.workers, initializer=host.init_worker,
                                                          initargs=(spec,))
            self._finalizer = weakref.finalize(self, self._executor.terminate)
        return self._executor

    def close(self) -> None:
        """Stop the worker processes and lane threads, if any were started (also stopped at exit)."""
        if self._lane_pool is not None:
            self._lane_pool.shutdown()
            self._lane_pool = None
        if self._executor is not None:
            self._finalizer.detach()
            self._executor.close()
            self._executor.join()
            self._executor = None

    def __getstate__(self) -> dict:
        # Pools do not travel: a copy (``Dataset.map(num_proc=...)`` pickles the detector into each
        # process) starts its own lanes and workers on first use.
        state = dict(self.__dict__, _lane_pool=None, _executor=None)
        state.pop("_finalizer", None)
        return state

    def __enter__(self) -> ClaimDetector:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def classify_many(self, documents: Sequence[Sequence[str]]) -> list[Results]:
        """Label the sentences of several documents at once (batched across documents)."""
        return [res for group in self._grouped(documents) for res in group]

    def classify(self, sentences: Sequence[str]) -> Results:
        """Label one document's sentences, given in order.

        >>> det.classify(["Officials said the bridge would reopen.", "Share this story!"])  # doctest: +SKIP
        """
        return self.classify_many([sentences])[0]

    def score(self, text: str) -> Results:
        """Segment ``text`` and label every sentence; offsets index ``text``."""
        return self.score_many([text])[0]

    def score_many(self, texts: Iterable[str]) -> list[Results]:
        """Segment and label several texts in one batched pass."""
        return self.label_segments([segment(t) for t in texts])

    def label_segments(self, segmented: Sequence[Sequence[Span]]) -> list[Results]:
        """Label already segmented texts; results carry the spans' offsets into their text."""
        labelled = self.classify_many([[s.text for s in spans] for spans in segmented])
        return [
            Results(replace(r, start=s.start, end=s.end) for r, s in zip(res, spans, strict=True))
            for res, spans in zip(labelled, segmented, strict=True)
        ]

    def score_frame(self, texts_or_paths: Iterable[str | os.PathLike]):
        """A pandas DataFrame, one row per sentence, for texts or file paths."""
        import pandas as pd
        from claimsift.model.readers import read_document

        docs, texts = [], []
        for k, item in enumerate(texts_or_paths):
            if isinstance(item, os.PathLike) or (isinstance(item, str) and len(item) < 4096
                                                  and "\n" not in item and Path(item).is_file()):
                for doc in read_document(Path(item)):
                    docs.append(doc.id)
                    texts.append(doc.text)
            else:
                docs.append(f"text-{k}")
                texts.append(str(item))
        rows = []
        for doc, res in zip(docs, self.score_many(texts), strict=True):
            for r in res:
                rows.append(flat_row(doc, r))
        return pd.DataFrame(rows)

    def map_batch(self, batch: dict[str, list], text_column: str = "text", doc_column: str | None = None
                  ) -> dict[str, list]:
        """Columns for ``datasets.Dataset.map(det.map_batch, batched=True)``.

        Rows sharing ``doc_column`` (consecutive, in order) are one document, so they give each
        other context; without it each row stands alone. Adds ``label``, ``confidence`` and
        ``p_<label>`` columns.

        >>> ds = ds.map(det.map_batch, batched=True, batch_size=256)   # doctest: +SKIP
        """
        texts = batch[text_column]
        keys = batch[doc_column] if doc_column else list(range(len(texts)))
        docs: list[list[str]] = []
        for k, text in enumerate(texts):
            if k == 0 or keys[k] != keys[k - 1]:
                docs.append([])
            docs[-1].append(text)
        flat = [r for res in self.classify_many(docs) for r in res]
        out: dict[str, list] = {"label": [r.label for r in flat], "confidence": [r.confidence for r in flat]}
        for lab in LABELS:
            out[f"p_{lab}"] = [r.scores[lab] for r in flat]
        return out

    def predict_records(self, records: list[dict]) -> list[dict]:
        """Predictions for annotated-sample records (grouped by ``doc``, in order): the eval contract."""
        groups: dict[str, list[int]] = {}
        for k, r in enumerate(records):
            groups.setdefault(r["doc"], []).append(k)
        ordered = [sorted(ix, key=lambda k: records[k]["i"]) for ix in groups.values()]
        results = self.classify_many([[records[k]["text"] for k in ix] for ix in ordered])
        out: list[dict] = [{}] * len(records)
        for ix, res in zip(ordered, results, strict=True):
            for k, r in zip(ix, res, strict=True):
                a = r.attribution
                out[k] = {
                    "label": r.label,
                    "scores": [r.scores[lab] for lab in LABELS],
                    "speaker": a.speaker.text if a and a.speaker else None,
                    "role": a.role.text if a and a.role else None,
                    "cue": a.cue.text if a and a.cue else None,
                    "named": a.named if a else None,
                    "spans": {
                        k2: ([f.start, f.end] if f is not None and f.start is not None else None)
                        for k2, f in (("speaker", a.speaker if a else None), ("role", a.role if a else None),
                                      ("cue", a.cue if a else None))
                    },
                }
        return out


@dataclass(frozen=True)
class _Finished:
    """A result already at hand, read like a worker's pending one (``ready``/``get``)."""

    value: list[Results]

    def ready(self) -> bool:
        return True

    def get(self) -> list[Results]:
        return self.value


def _padded(block: np.ndarray, width: int) -> np.ndarray:
    """``block`` with zero columns added up to ``width`` (a group's arrays are only as wide as its
    longest row; a rounded-up width may pass it)."""
    missing = width - block.shape[1]
    return np.pad(block, ((0, 0), (0, missing))) if missing > 0 else block


def _prefetched(prepare, parts):
    """``prepare(part)`` for each part in order, the next one computed in a background thread while
    the caller works on this one (the fast tokenizer releases the GIL)."""
    parts = list(parts)
    if not parts:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="claimsift-tokenize") as pool:
        ahead = pool.submit(prepare, parts[0])
        for k in range(len(parts)):
            result = ahead.result()
            if k + 1 < len(parts):
                ahead = pool.submit(prepare, parts[k + 1])
            yield result


def flat_row(doc: str, r: SentenceResult) -> dict:
    """One flat dict per sentence (DataFrame and CSV rows)."""
    a = r.attribution
    return {
        "doc": doc, "index": r.index, "start": r.start, "end": r.end, "text": r.text, "label": r.label,
        "confidence": r.confidence,
        **{f"p_{lab}": r.scores[lab] for lab in LABELS},
        "speaker": a.speaker.text if a and a.speaker else None,
        "role": a.role.text if a and a.role else None,
        "cue": a.cue.text if a and a.cue else None,
        "named": a.named if a else None,
        "verify": r.verify,
    }
