"""ONNX Runtime for CPU inference: a trained network exported once, cached, and run by onnxruntime.

``ClaimDetector.from_pretrained(..., runtime="onnx")`` exports the network (encoder with its
LoRA merged, and the three heads) to ONNX the first time, optionally quantizes its weights to
int8, and keeps the file in the cache folder keyed by the model's and the base's sha256. Later
loads find the file, check its recorded sha256 and skip building the torch encoder at all, which
is most of a cold start. ONNX files are protobuf graphs, not pickles; only files this module
wrote, with a matching sidecar hash, are ever opened.

>>> net = OnnxNet(export_path)          # doctest: +SKIP
>>> out = net(input_ids=ids, attention_mask=mask, sentence_mask=smask)  # doctest: +SKIP
>>> sorted(out)                                                         # doctest: +SKIP
['label_logits', 'named_logits', 'tag_logits']
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from pathlib import Path

import torch
from claimsift.model.bases import cache_dir, commit_cached_file

logger = logging.getLogger(__name__)

OUTPUTS = ("label_logits", "tag_logits", "named_logits")
OPSET = 17
# Per-channel int8 weights: per-tensor scales cost 0.8 macro-F1 on the corpus test split, per-channel
# scales none (measured, see eval/results/speed.md). The suffix names the recipe so graphs
# quantized the older way are not reused.
INT8_SUFFIX = "-int8pc"


def export_path(files: dict[str, str], base_sha256: str | None, *, quantize: bool) -> Path:
    """Where the exported graph of a model (identified by its files' hashes) is cached."""
    key = hashlib.sha256(json.dumps([files, base_sha256], sort_keys=True).encode()).hexdigest()[:20]
    return cache_dir() / "onnx" / f"{key}{INT8_SUFFIX if quantize else ''}.onnx"


class _Outputs(torch.nn.Module):
    """ClaimNet returns a dict; the exporter wants a tuple in a fixed order."""

    def __init__(self, net: torch.nn.Module):
        super().__init__()
        self.net = net

    def forward(self, input_ids, attention_mask, sentence_mask, token_type_ids=None):
        out = self.net(input_ids=input_ids, attention_mask=attention_mask, sentence_mask=sentence_mask,
                       token_type_ids=token_type_ids)
        return tuple(out[k] for k in OUTPUTS)


def export(net: torch.nn.Module, path: Path, *, token_types: bool, quantize: bool, window: bool = False) -> Path:
    """Export ``net`` (a ClaimNet in eval mode) to ``path``; int8 weights when ``quantize``.

    ``window``: the window layout, whose ``sentence_mask`` is ``(batch, sentences, tokens)`` and
    whose label and named logits have a sentence axis (see :class:`claimsift.model.network.ClaimNet`).
    """
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
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        # The TorchScript exporter traces this static graph reliably; its deprecation notice is not ours.
        warnings.simplefilter("ignore")
        torch.onnx.export(_Outputs(net.eval()), dummy, str(fp32), dynamo=False, opset_version=OPSET,
                          input_names=names, output_names=list(OUTPUTS), dynamic_axes=axes)
    tmp = fp32
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        tmp = path.with_name(path.name + ".int8.tmp")
        quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
        fp32.unlink()
    commit_cached_file(tmp, path)
    logger.info("exported %s", path)
    return path


class OnnxNet:
    """Stands in for ClaimNet at inference: same inputs (torch tensors), same output dict."""

    def __init__(self, path: Path, threads: int | None = None):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or torch.get_num_threads()
        opts.inter_op_num_threads = 1
        self.path = path
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def __call__(self, input_ids, attention_mask, sentence_mask, token_type_ids=None) -> dict[str, torch.Tensor]:
        feed = {"input_ids": input_ids, "attention_mask": attention_mask, "sentence_mask": sentence_mask,
                "token_type_ids": token_type_ids}
        feed = {k: v.numpy().astype("int64", copy=False) for k, v in feed.items() if k in self.inputs}
        return dict(zip(OUTPUTS, (torch.from_numpy(o) for o in self.session.run(list(OUTPUTS), feed)), strict=True))

    def to(self, device) -> OnnxNet:
        if torch.device(device).type != "cpu":
            raise ValueError("the ONNX runtime is the CPU path; use runtime='torch' on a GPU")
        return self

    def eval(self) -> OnnxNet:
        return self
