"""Fine-tune a detector with the Hugging Face ``Trainer``: label and attribution heads together.

``claimsift train --config training/configs/default.json [--key value ...]``. Runs on whatever
``accelerate`` finds: CPU, one GPU, or several under ``accelerate launch`` / ``torchrun``.
"""

from __future__ import annotations

import json
import logging
import platform
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from claimsift.data.corpus import load_records, load_wikinews
from claimsift.data.samples import read_samples
from claimsift.model.detector import ClaimDetector
from claimsift.model.jsonl import json_objects
from claimsift.model.labels import LABELS
from claimsift.model.network import multitask_loss
from claimsift.model.precision import precision_name
from claimsift.training.config import TrainConfig
from claimsift.training.dataset import (
    Collator,
    build_features,
    class_weights,
    count_sentences,
    drop_conflicts,
    has_target,
)
from claimsift.training.dropout import swap_dropout
from torch import nn

logger = logging.getLogger(__name__)


class _TrainModule(nn.Module):
    """Adds the multi-task loss around the network, in the shape ``Trainer`` expects."""

    def __init__(self, net, cfg: TrainConfig, weights: torch.Tensor | None):
        super().__init__()
        self.net = net
        self.cfg = cfg
        self.register_buffer("class_weights", weights if weights is not None else torch.ones(len(LABELS)))

    def forward(self, input_ids, attention_mask, sentence_mask, tags, labels, named, weight, source_id, soft,
                token_type_ids=None):
        out = self.net(input_ids=input_ids, attention_mask=attention_mask, sentence_mask=sentence_mask,
                       token_type_ids=token_type_ids)
        flat = out
        if sentence_mask.dim() == 3:  # window layout: (B, S) sentences -> B*S rows; padded ones carry no loss
            n = len(LABELS)
            flat = {**out, "label_logits": out["label_logits"].reshape(-1, n),
                    "named_logits": out["named_logits"].reshape(-1)}
            labels, named, weight, soft = labels.reshape(-1), named.reshape(-1), weight.reshape(-1), soft.reshape(-1, n)
        # the logits keep their (rows, members) shape: Trainer cuts predictions to the number of rows
        loss = multitask_loss(flat, labels, tags, named, weights=weight, class_weights=self.class_weights,
                              tag_weight=self.cfg.tag_weight, named_weight=self.cfg.named_weight,
                              soft_labels=soft, soft_weight=self.cfg.soft_weight)
        return {"loss": loss, "logits": out["label_logits"]}


def _trainer_class():
    from transformers import Trainer

    class HeadLrTrainer(Trainer):
        """``Trainer`` whose optimizer gives the heads their own learning rate (``head_lr``)."""

        def __init__(self, *args, head_lr: float | None = None, **kwargs):
            super().__init__(*args, **kwargs)
            self.head_lr = head_lr

        def create_optimizer(self, model=None):
            fresh = self.optimizer is None
            opt = super().create_optimizer(model)
            if fresh and self.head_lr is not None:
                heads = {id(p) for n, p in self.model.named_parameters() if not n.startswith("net.encoder.")}
                groups = []
                for g in opt.param_groups:
                    rest = {k: v for k, v in g.items() if k != "params"}
                    enc = [p for p in g["params"] if id(p) not in heads]
                    head = [p for p in g["params"] if id(p) in heads]
                    groups += [{**rest, "params": enc}] if enc else []
                    groups += [{**rest, "params": head, "lr": self.head_lr}] if head else []
                opt.param_groups.clear()
                for g in groups:  # the scheduler, built next, scales each group's own lr
                    opt.add_param_group(g)
            return opt

    return HeadLrTrainer


def _macro_f1(y_true, y_pred) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y_true, y_pred, labels=list(range(len(LABELS))), average="macro", zero_division=0))


def compute_metrics(eval_pred) -> dict:
    """Macro-F1 on each dev source and their mean, the checkpoint-selection metric."""
    logits = eval_pred.predictions[0] if isinstance(eval_pred.predictions, tuple) else eval_pred.predictions
    labels, sources = (np.asarray(a).reshape(-1) for a in eval_pred.label_ids)  # window rows: (rows, members)
    pred = logits.reshape(-1, logits.shape[-1]).argmax(-1)
    out = {}
    for name, sid in (("corpus", 0), ("wikinews", 1)):
        m = (sources == sid) & (labels >= 0)
        if m.any():
            out[f"{name}_macro_f1"] = _macro_f1(labels[m], pred[m])
    out["selection_f1"] = float(np.mean(list(out.values()))) if out else 0.0
    return out


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising dev negative log-likelihood (temperature scaling)."""
    from scipy.optimize import minimize_scalar

    t_logits = torch.tensor(logits, dtype=torch.float64)
    t_labels = torch.tensor(labels)

    def nll(t: float) -> float:
        return float(nn.functional.cross_entropy(t_logits / t, t_labels))

    return float(minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded").x)


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    conf, pred = probs.max(1), probs.argmax(1)
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += m.mean() * abs((pred[m] == labels[m]).mean() - conf[m].mean())
    return float(ece)


def load_training_data(cfg: TrainConfig) -> dict[str, list[tuple[list[dict], float, str]]]:
    """Train and dev record sets, each with its loss weight and source name."""
    corpus = load_records(path=cfg.corpus)
    train = [([r for r in corpus if r["split"] == "train"], cfg.corpus_weight, "corpus")]
    dev = [([r for r in corpus if r["split"] == "dev"], 1.0, "corpus")]
    if cfg.wikinews:
        wiki = load_wikinews(cfg.wikinews)
        train.append(([r for r in wiki if r["split"] == "wikinews_train"], cfg.wikinews_weight, "wikinews"))
        dev.append(([r for r in wiki if r["split"] == "wikinews_dev"], 1.0, "wikinews"))
    for extra in cfg.extra_train:
        recs = read_samples(extra.path, allow_null_label=True)
        for r in recs:  # the converted sets in shared/external keep their silver label as mapped_label
            if r["label"] is None and r.get("mapped_label"):
                r["label"] = r["mapped_label"]
        train.append((recs, extra.weight, "extra"))
    if cfg.max_train_sentences:
        cap = cfg.max_train_sentences
        train = [(recs[:cap], w, s) for recs, w, s in train]
        dev = [(recs[:cap], w, s) for recs, w, s in dev]
    return {"train": train, "dev": dev}


def _load_soft(path: str | None) -> dict | None:
    if not path:
        return None
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return {(r["doc"], r["i"]): r["scores"] for _, r in json_objects(lines, str(path), ValueError)}


def evaluate_splits(det: ClaimDetector, splits: dict[str, list[dict]]) -> dict[str, dict]:
    """Accuracy, macro-F1 and per-label F1 of ``det`` on each named record list."""
    from sklearn.metrics import accuracy_score, f1_score

    out = {}
    for name, recs in splits.items():
        if not recs:
            continue
        preds = det.predict_records(recs)
        y = [r["label"] for r in recs]
        p = [q["label"] for q in preds]
        per = f1_score(y, p, labels=list(LABELS), average=None, zero_division=0)
        out[name] = {
            "n": len(recs), "accuracy": float(accuracy_score(y, p)),
            "macro_f1": float(f1_score(y, p, labels=list(LABELS), average="macro", zero_division=0)),
            "f1": {lab: float(v) for lab, v in zip(LABELS, per, strict=True)},
        }
    return out


def train(cfg: TrainConfig, *, eval_splits: dict[str, list[dict]] | None = None) -> tuple[ClaimDetector, dict]:
    """Train, select the best checkpoint on dev, calibrate, choose ``min_role_score``, save.

    Returns the detector and its metrics.
    """
    from claimsift.training.card import model_card
    from transformers import EarlyStoppingCallback, TrainingArguments, set_seed

    set_seed(cfg.seed)
    started = time.time()
    det = ClaimDetector.new(cfg.base, adapter=cfg.adapter, lora_r=cfg.lora_r, lora_alpha=cfg.lora_alpha,
                            lora_dropout=cfg.lora_dropout, context=cfg.context,
                            max_length=cfg.max_length, window_context=cfg.window_context,
                            precision=cfg.precision)
    if cfg.dropout_masks == "bits" and det.device.type == "cpu":
        swap_dropout(det.net)  # CPU bernoulli_ masks cost more than the layers they drop: training/dropout.py
    data = load_training_data(cfg)
    soft = _load_soft(cfg.soft_labels)
    soft_dropped = 0
    if soft:
        soft, soft_dropped = drop_conflicts(soft, [r for part in data.values() for recs, _, _ in part for r in recs])

    def features(parts):
        from datasets import concatenate_datasets

        sets = [build_features(recs, det.tokenizer, context=cfg.context, max_length=cfg.max_length,
                               window_context=cfg.window_context,
                               weight=w, source=s, soft=soft) for recs, w, s in parts if recs]
        # Unlabelled sentences have served as their neighbours' context; they carry no loss.
        return concatenate_datasets(sets).filter(has_target)

    train_ds, dev_ds = features(data["train"]), features(data["dev"])
    all_train = [r for recs, _, _ in data["train"] for r in recs]
    module = _TrainModule(det.net, cfg, class_weights(all_train, cfg.class_weighting))
    strategy = "steps" if cfg.eval_steps else "epoch"
    args = TrainingArguments(
        output_dir=cfg.output_dir, num_train_epochs=cfg.epochs, learning_rate=cfg.lr,
        per_device_train_batch_size=cfg.batch_size, per_device_eval_batch_size=64,
        weight_decay=cfg.weight_decay, warmup_steps=cfg.warmup_ratio, lr_scheduler_type="linear",
        eval_strategy=strategy, save_strategy=strategy, eval_steps=cfg.eval_steps, save_steps=cfg.eval_steps,
        load_best_model_at_end=True, metric_for_best_model="selection_f1", greater_is_better=True,
        save_total_limit=2, label_names=["labels", "source_id"], remove_unused_columns=False,
        logging_steps=50, report_to=[], seed=cfg.seed, data_seed=cfg.seed, dataloader_num_workers=0,
        train_sampling_strategy="group_by_length",  # less padding: similar lengths batch together
        # Mixed precision where the hardware has bf16: 1.28x a capped epoch on 2 AMX cores (train_speed.md).
        bf16=det.dtype == torch.bfloat16,
        # no accelerator: say so, which also lets torchrun's several CPU processes train data-parallel
        use_cpu=not torch.cuda.is_available() and not torch.backends.mps.is_available(),
        disable_tqdm=False,
    )
    trainer = _trainer_class()(
        model=module, head_lr=cfg.head_lr, args=args, train_dataset=train_ds, eval_dataset=dev_ds,
        data_collator=Collator(det.tokenizer.pad_token_id or 0), compute_metrics=compute_metrics,
        callbacks=[EarlyStoppingCallback(early_stopping_patience=cfg.early_stopping_patience)],
    )
    trainer.train()
    det.net = trainer.model.net.to(det.device).eval()

    metrics: dict = {"train_sentences": count_sentences(train_ds), "dev_sentences": count_sentences(dev_ds)}
    if cfg.soft_labels:
        metrics["soft_labels_dropped"] = soft_dropped
    pred = trainer.predict(dev_ds)
    logits = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
    logits, labels = logits.reshape(-1, len(LABELS)), np.asarray(pred.label_ids[0]).reshape(-1)
    keep = labels >= 0
    temp = fit_temperature(logits[keep], labels[keep]) if cfg.calibrate else 1.0
    probs_before = torch.softmax(torch.tensor(logits[keep]), -1).numpy()
    probs_after = torch.softmax(torch.tensor(logits[keep]) / temp, -1).numpy()
    metrics["calibration"] = {
        "temperature": temp,
        "dev_ece_before": expected_calibration_error(probs_before, labels[keep]),
        "dev_ece_after": expected_calibration_error(probs_after, labels[keep]),
    }
    det.config = replace(det.config, temperature=temp)
    if not trainer.is_world_process_zero():
        # Under torchrun / accelerate launch every process trains and predicts (collective steps);
        # one process evaluates and writes the model, so the files are never written twice.
        _end_distributed()
        return det, metrics
    if cfg.tune_role_score:
        from claimsift.eval.role_threshold import tune

        metrics["role_threshold"] = tune(det, [r for recs, _, _ in data["dev"] for r in recs])
    metrics["train_seconds"] = round(time.time() - started, 1)
    metrics["hardware"] = {
        "device": str(det.device), "precision": precision_name(det.dtype),
        "cpu_threads": torch.get_num_threads(), "platform": platform.platform(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch": torch.__version__,
    }
    if eval_splits is None:
        corpus = load_records(path=cfg.corpus)
        eval_splits = {s: [r for r in corpus if r["split"] == s] for s in ("dev", "test", "hard")}
        if cfg.wikinews:
            eval_splits["wikinews_dev"] = [r for r in load_wikinews(cfg.wikinews) if r["split"] == "wikinews_dev"]
    metrics["eval"] = evaluate_splits(det, eval_splits)
    metrics["log"] = [h for h in trainer.state.log_history if "eval_selection_f1" in h]
    det.save_pretrained(cfg.model_dir, card=model_card(cfg, det, metrics))
    (Path(cfg.model_dir) / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    logger.info("model written to %s in %.0f s", cfg.model_dir, metrics["train_seconds"])
    _end_distributed()
    return det, metrics


def _end_distributed() -> None:
    """Under torchrun, wait for every process, then tear the process group down.

    A process that left while the main one was still evaluating could abort at exit ("terminate
    called without an active exception": gloo's threads still running), which failed a run whose
    model had been written. Seen once in CI's two-process test.
    """
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


