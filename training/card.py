"""The model card written next to every trained model: what went in, how it scored."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

from claimsift.model.labels import LABELS

WIKINEWS_CREDIT = (
    "Text from Wikinews (https://en.wikinews.org), by Wikinews contributors, licensed under CC BY 2.5 "
    "(https://creativecommons.org/licenses/by/2.5/). Articles were extracted and cleaned (markup, captions, "
    "datelines and foreign-language glosses removed) and labelled by sentence under the claimsift scheme."
)


def fingerprint(path: str | None) -> str | None:
    """sha256 of a data file (first 16 hex digits), so a card names exactly the data it saw."""
    if not path or not Path(path).exists():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _table(evals: dict) -> str:
    head = "| split | n | accuracy | macro-F1 | " + " | ".join(LABELS) + " |"
    rule = "|" + "---|" * (4 + len(LABELS))
    rows = [
        f"| {name} | {m['n']} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} | "
        + " | ".join(f"{m['f1'][lab]:.3f}" for lab in LABELS) + " |"
        for name, m in evals.items()
    ]
    return "\n".join([head, rule, *rows])


def _teacher(soft_labels: str) -> str:
    """Which model wrote the soft labels, from the ``teacher.json`` that ``claimsift distill`` leaves beside them."""
    from claimsift.training.distill import TEACHER_RECORD

    meta = Path(soft_labels).with_name(TEACHER_RECORD)
    try:
        info = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return "teacher not recorded (written before `claimsift distill` recorded it)"
    weights = ", ".join(f"{name} {digest[:16]}" for name, digest in sorted(info.get("files", {}).items()))
    return f"teacher `{info.get('teacher')}` (base {info.get('base')}; weights sha256 {weights or 'unknown'})"


def model_card(cfg, det, metrics: dict) -> str:
    """Markdown model card: base and hash, data fingerprints, resolved config, metrics, hardware."""
    from claimsift import __version__

    sources = [f"- project corpus `{cfg.corpus}` (train split), sha256 {fingerprint(cfg.corpus)}"]
    if cfg.wikinews:
        sources.append(f"- Wikinews annotated sentences `{cfg.wikinews}` (wikinews_train split), "
                       f"sha256 {fingerprint(cfg.wikinews)}")
    for extra in cfg.extra_train:
        sources.append(f"- extra `{extra.path}` weight {extra.weight}, sha256 {fingerprint(extra.path)}")
    if cfg.soft_labels:
        sources.append(f"- teacher soft labels `{cfg.soft_labels}` weight {cfg.soft_weight}, "
                       f"sha256 {fingerprint(cfg.soft_labels)}; {_teacher(cfg.soft_labels)}; "
                       f"{metrics.get('soft_labels_dropped', 0)} rows dropped where the teacher's top label "
                       "disagrees with the gold one (gold wins)")
    cal = metrics.get("calibration", {})
    tuning = (f"LoRA r={det.config.lora_r}, alpha={det.config.lora_alpha} on all linear layers"
              if det.config.adapter == "lora" else "all encoder weights (full fine-tune)")
    edges = (f", {det.config.window_context} tokens of each neighbour at a row's edges"
             if det.config.context == "window" else "")
    hw = metrics.get("hardware", {})
    from claimsift.eval.role_threshold import describe

    roles = metrics.get("role_threshold")
    role_line = describe(roles) if roles else f"min_role_score {det.config.min_role_score:g} (not tuned)"
    return f"""# claimsift model card

Generated {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} by `claimsift train`, claimsift {__version__}.

## Model
- Base encoder: `{det.config.base}`, weights sha256 `{det.config.base_sha256}`
- Fine-tuning: {tuning}, plus label, attribution-tag and named heads; context `{det.config.context}`,
  max length {det.config.max_length}{edges}
- Labels: {', '.join(LABELS)}
- Calibration: temperature {cal.get('temperature', 1.0):.3f}; dev ECE {cal.get('dev_ece_before', float('nan')):.3f}
  before, {cal.get('dev_ece_after', float('nan')):.3f} after
- Attribution: {role_line}

## Training data (exactly what went in)
{chr(10).join(sources)}
- {metrics.get('train_sentences')} training sentences, {metrics.get('dev_sentences')} dev sentences

## Results (sentences the model never saw in training; whole documents)
{_table(metrics.get('eval', {}))}

## Training
- Time: {metrics.get('train_seconds')} s on {hw.get('device')} ({hw.get('gpu') or f"{hw.get('cpu_threads')} threads"}),
  mixed precision {hw.get('precision', 'fp32')},
  {hw.get('platform')}, torch {hw.get('torch')}
- Resolved config:

```json
{json.dumps(cfg.to_dict(), indent=2)}
```

## Credits
{WIKINEWS_CREDIT}

## Limits
English news only. Trained on a corpus written for this project plus real Wikinews articles; the
hidden real-news test is the judge of how it does on real drafts. Attribution spans are a token head's
best guess: always verify against the draft.
"""
