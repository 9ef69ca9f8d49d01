"""ONNX Runtime for CPU inference: a trained network exported once, cached, and run by onnxruntime.

``ClaimDetector.from_pretrained(..., runtime="onnx")`` exports the network (encoder with its
LoRA merged, and the three heads) to ONNX the first time, fuses its attention, LayerNorm and GELU
with onnxruntime's transformer optimizer where that keeps its outputs, optionally quantizes its
weights to int8, and keeps the file in the cache folder keyed by the model's and the base's sha256
and the build recipe. Later
loads find the file, check its recorded sha256 and skip building the torch encoder at all, which
is most of a cold start. ONNX files are protobuf graphs, not pickles; only files this module
wrote, with a matching sidecar hash, are ever opened. The network takes and returns NumPy arrays,
so running a cached graph never imports torch.

>>> net = OnnxNet(export_path)          # doctest: +SKIP
>>> out = net(input_ids=ids, attention_mask=mask, sentence_mask=smask)  # doctest: +SKIP
>>> sorted(out)                                                         # doctest: +SKIP
['label_logits', 'named_logits', 'tag_logits']
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from claimsift.model.bases import cache_dir, commit_cached_file

if TYPE_CHECKING:  # imported where used: running a cached graph needs no torch, only exporting one
    import torch

logger = logging.getLogger(__name__)

OUTPUTS = ("label_logits", "tag_logits", "named_logits")
OPSET = 17
# How a graph is built; part of the cache key, so graphs built another way are not reused.
# "fused": attention, LayerNorm and GELU fused by onnxruntime's transformer optimizer. int8: per-channel
# weight scales (per-tensor ones cost 0.8 macro-F1 on the corpus test split), and the fused attention
# (its query/key/value projection) left in fp32.
RECIPE = "fused-1"
INT8_SUFFIX = "-int8"
FP32_OPS = ("Attention",)
FUSION_TOLERANCE = 1e-3  # largest logit difference from torch for a fused graph to be kept


def export_path(files: dict[str, str], base_sha256: str | None, *, quantize: bool) -> Path:
    """Where the exported graph of a model (identified by its files' hashes) is cached: named by the
    model, then by ``RECIPE``, so that a graph built another way is never reused."""
    key = hashlib.sha256(json.dumps([files, base_sha256], sort_keys=True).encode()).hexdigest()[:20]
    return cache_dir() / "onnx" / _graph_name(key, quantize)


def _graph_name(key: str, quantize: bool) -> str:
    return f"{key}-{RECIPE}{INT8_SUFFIX if quantize else ''}.onnx"


def remove_stale(path: Path) -> list[Path]:
    """Delete the graphs of ``path``'s model that other recipes built (earlier claimsift versions:
    ``KEY.onnx``, ``KEY-int8pc.onnx``, ``KEY-<recipe>.onnx`` ...) with their hash files; up to
    500 MB each for ``accurate``, never read again. Unfinished ``.tmp`` exports are left alone (another
    process may be writing one), as are files that cannot be deleted (in use, on some systems)."""
    key = path.name.split("-", 1)[0]
    current = {_graph_name(key, quantize) for quantize in (False, True)}
    removed = []
    for f in sorted(path.parent.glob(f"{key}*")):
        if f.name.removesuffix(".sha256") in current or f.name.endswith(".tmp"):
            continue
        try:
            f.unlink()
        except OSError:
            continue
        removed.append(f)
    return removed


def _outputs(net: torch.nn.Module) -> torch.nn.Module:
    """``net`` returning a tuple in ``OUTPUTS`` order: ClaimNet returns a dict, the exporter wants a tuple."""
    import torch

    class Outputs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, input_ids, attention_mask, sentence_mask, token_type_ids=None):
            out = self.net(input_ids=input_ids, attention_mask=attention_mask, sentence_mask=sentence_mask,
                           token_type_ids=token_type_ids)
            return tuple(out[k] for k in OUTPUTS)

    return Outputs()


def export(net: torch.nn.Module, path: Path, *, token_types: bool, quantize: bool, window: bool = False) -> Path:
    """Export ``net`` (a ClaimNet in eval mode) to ``path``, fused; int8 weights when ``quantize``.

    ``window``: the window layout, whose ``sentence_mask`` is ``(batch, sentences, tokens)`` and
    whose label and named logits have a sentence axis (see :class:`claimsift.model.network.ClaimNet`).
    """
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    names = ["input_ids", "attention_mask", "sentence_mask"] + (["token_type_ids"] if token_types else [])
    dummy = [torch.ones(2, 8, dtype=torch.long) for _ in names]
    axes = {n: {0: "batch", 1: "tokens"} for n in names}
    axes |= {"label_logits": {0: "batch"}, "tag_logits": {0: "batch", 1: "tokens"}, "named_logits": {0: "batch"}}
    if window:
        dummy[2] = torch.zeros(2, 3, 8, dtype=torch.long)
        dummy[2][:, 0, 1:3] = dummy[2][:, 1, 3:6] = dummy[2][:, 2, 6:7] = 1
        axes["sentence_mask"] = {0: "batch", 1: "sentences", 2: "tokens"}
        axes["label_logits"] = axes["named_logits"] = {0: "batch", 1: "sentences"}
    dummy = tuple(dummy)
    fp32 = path.with_name(path.name + ".fp32.tmp")
    with _eager_attention(net.encoder), warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        # The TorchScript exporter traces this static graph reliably; its deprecation notice is not ours.
        warnings.simplefilter("ignore")
        torch.onnx.export(_outputs(net).eval(), dummy, str(fp32), dynamo=False, opset_version=OPSET,
                          input_names=names, output_names=list(OUTPUTS), dynamic_axes=axes)
        tmp, fp32_nodes = _fused(fp32, net, _probe(net.encoder.config, names, window))
    if quantize:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic

        source, tmp = tmp, path.with_name(path.name + ".int8.tmp")
        # Fused operators have no ONNX type inference; their outputs are fp32.
        with _quiet_quantizer():
            quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
                             nodes_to_exclude=fp32_nodes,
                             extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        source.unlink()
    commit_cached_file(tmp, path)
    logger.info("exported %s", path)
    if stale := remove_stale(path):
        logger.info("removed graphs of earlier versions: %s", ", ".join(f.name for f in stale))
    return path


@contextmanager
def _quiet_quantizer():
    """Drop what onnxruntime's quantizer logs on the root logger while it runs: advice to
    pre-process the graph and notes on fused operators' output types (``DefaultTensorType``
    answers them), which read as faults to a desk running ``--quantize`` for the first time."""

    def keep(record: logging.LogRecord) -> bool:
        return "onnxruntime" not in record.pathname

    root = logging.getLogger()
    root.addFilter(keep)
    try:
        yield
    finally:
        root.removeFilter(keep)


@contextmanager
def _eager_attention(encoder: torch.nn.Module):
    """Trace the encoder with transformers' plain ("eager") attention: the fusions recognise its
    matmul-softmax-matmul pattern, not one SDPA call. Same arithmetic; the choice is restored after."""
    before = getattr(encoder.config, "_attn_implementation", None)
    switch = before not in (None, "eager") and hasattr(encoder, "set_attn_implementation")
    if switch:
        encoder.set_attn_implementation("eager")
    try:
        yield
    finally:
        if switch:
            encoder.set_attn_implementation(before)


def _probe(config, names: list[str], window: bool) -> dict[str, torch.Tensor]:
    """Two rows of random tokens, the second padded, laid out as the network takes them."""
    import torch

    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, config.vocab_size, (2, 16), generator=g)
    mask = torch.ones(2, 16, dtype=torch.long)
    mask[1, 11:] = 0
    if window:
        sentences = torch.zeros(2, 2, 16, dtype=torch.long)
        sentences[:, 0, 1:6] = sentences[0, 1, 6:14] = sentences[1, 1, 6:10] = 1
    else:
        sentences = torch.zeros(2, 16, dtype=torch.long)
        sentences[:, 3:9] = 1
    feed = {"input_ids": ids, "attention_mask": mask, "sentence_mask": sentences}
    if "token_type_ids" in names:
        feed["token_type_ids"] = (torch.arange(16) >= 9).long().expand(2, -1).contiguous()
    return feed


def _fused(src: Path, net: torch.nn.Module, probe: dict[str, torch.Tensor]) -> tuple[Path, list[str]]:
    """``src`` with onnxruntime's transformer fusions, if they keep the network's outputs (within
    ``FUSION_TOLERANCE`` on ``probe``, at unpadded tokens) and fuse the attention; else ``src``.
    With it, the names of the graph's nodes of ``FP32_OPS`` (none in an unfused graph), which int8
    leaves in fp32.

    Kept only when the attention fuses. On the default model (ad hoc, the network alone on 3,000
    test sentences) fp32 went from 530 to 635 sentences/s and int8 from 815 to 930; end to end and
    the int8 graph's accuracy are in eval/results/speed.md and the README's speed notes.
    """
    import torch
    from onnxruntime.transformers.optimizer import optimize_model

    cfg = net.encoder.config
    dst = src.with_name(src.name.replace(".fp32.tmp", ".fused.tmp"))
    try:
        # "bert" covers BERT-like encoders; a pattern it does not recognise is left unfused.
        fused = optimize_model(str(src), model_type="bert", num_heads=cfg.num_attention_heads,
                               hidden_size=cfg.hidden_size, opt_level=0)
        fused.save_model_to_file(str(dst))
        expected = net(**probe)
        got = OnnxNet(dst, threads=1)(**{k: v.numpy() for k, v in probe.items()})
        got = {k: torch.from_numpy(v) for k, v in got.items()}
    except Exception as e:  # noqa: BLE001 - the unfused graph is correct, only slower
        logger.warning("ONNX fusions not applied (%s); the graph runs unfused", e)
        dst.unlink(missing_ok=True)
        return src, []
    stats = {k: v for k, v in fused.get_fused_operator_statistics().items() if v}
    kept = probe["attention_mask"].bool()
    diff = max((expected[k] - got[k]).abs()[kept if k == "tag_logits" else ...].max().item() for k in OUTPUTS)
    if diff > FUSION_TOLERANCE:
        logger.warning("ONNX fusions changed the outputs by up to %.2g; the graph runs unfused", diff)
    elif not stats.get("Attention"):
        # The gain is the fused attention. Without it (MPNet's relative-position attention does not
        # match) the other fusions ran 7% slower than onnxruntime's own at load (ad hoc, once).
        logger.info("no attention fused (%s); the graph runs unfused", stats)
    else:
        logger.info("fused %s", stats)
        src.unlink()
        return dst, [n.name for n in fused.model.graph.node if n.op_type in FP32_OPS]
    dst.unlink()
    return src, []


class OnnxNet:
    """Stands in for ClaimNet at inference: the same inputs and output dict, as NumPy arrays.

    ``threads``: intra-op threads; by default torch's count where torch is loaded (a user's
    ``torch.set_num_threads`` holds), else onnxruntime's own choice, the physical cores, as torch's is.
    """

    takes_numpy = True  # the detector feeds it arrays and never imports torch for it

    def __init__(self, path: Path, threads: int | None = None):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if not threads and "torch" in sys.modules:
            threads = sys.modules["torch"].get_num_threads()
        opts.intra_op_num_threads = threads or 0
        opts.inter_op_num_threads = 1
        self.path = path
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def __call__(self, input_ids, attention_mask, sentence_mask, token_type_ids=None) -> dict[str, np.ndarray]:
        feed = {"input_ids": input_ids, "attention_mask": attention_mask, "sentence_mask": sentence_mask,
                "token_type_ids": token_type_ids}
        feed = {k: np.ascontiguousarray(v, dtype=np.int64) for k, v in feed.items() if k in self.inputs}
        return dict(zip(OUTPUTS, self.session.run(list(OUTPUTS), feed), strict=True))

    def to(self, device) -> OnnxNet:
        if str(device).split(":")[0] != "cpu":
            raise ValueError("the ONNX runtime is the CPU path; use runtime='torch' on a GPU")
        return self

    def eval(self) -> OnnxNet:
        return self
