"""A LoRA adapter extracted from a full fine-tune reproduces it when the change has that rank."""

import pytest
import torch
from claimsift.model.detector import ClaimDetector
from claimsift.model.labels import LABELS
from claimsift.training.lowrank import lora_from_full

LABEL_INDEX = {lab: k for k, lab in enumerate(LABELS)}

SENTENCES = ['"We will not move," said Ann Lee.', "Analysts expect prices to rise.", "Subscribe now!"]


def _probs(det):
    return torch.tensor([[r.scores[k] for k in sorted(r.scores)] for r in det.classify(SENTENCES)])


def _fine_tuned(tiny_base, rank: int) -> ClaimDetector:
    """A 'fully fine-tuned' tiny detector: every linear layer moved by a random rank-``rank`` change."""
    det = ClaimDetector.new(str(tiny_base), device="cpu", adapter="full")
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for module in det.net.encoder.modules():
            if isinstance(module, torch.nn.Linear):
                out_f, in_f = module.weight.shape
                module.weight += torch.randn(out_f, rank, generator=gen) @ torch.randn(rank, in_f, generator=gen) / 3
    return det


def test_extracted_adapter_matches_the_full_model_and_reloads(tiny_base, tmp_path):
    full = _fine_tuned(tiny_base, rank=2)
    small = lora_from_full(full, rank=2, dtype=torch.float32)
    assert torch.allclose(_probs(small), _probs(full), atol=1e-4)
    folder = small.save_pretrained(tmp_path / "lora")
    assert any(folder.rglob("adapter_model.safetensors"))
    assert not any(folder.rglob("encoder.safetensors"))  # the base is not copied
    reloaded = ClaimDetector.from_pretrained(folder, runtime="torch")
    assert torch.allclose(_probs(reloaded), _probs(full), atol=1e-4)


def test_a_lower_rank_is_an_approximation(tiny_base):
    full = _fine_tuned(tiny_base, rank=8)
    low = lora_from_full(full, rank=1, dtype=torch.float32)
    exact = lora_from_full(full, rank=8, dtype=torch.float32)
    gap_low = (_probs(low) - _probs(full)).abs().max()
    assert (_probs(exact) - _probs(full)).abs().max() < 1e-4 < gap_low


def test_only_full_models_can_be_compressed(tiny_base):
    lora = ClaimDetector.new(str(tiny_base), device="cpu", adapter="lora")
    with pytest.raises(ValueError, match="fully fine-tuned"):
        lora_from_full(lora, rank=2)


def test_recalibration_refits_the_temperature_on_annotated_records(tiny_base):
    import numpy as np
    from claimsift.training.lowrank import recalibrate

    det = _fine_tuned(tiny_base, rank=2)
    labels = ["attributed_quote", "unverifiable_expert_claim", "no_claim"]
    records = [{"doc": "d", "i": i, "text": t, "label": lab}
               for i, (t, lab) in enumerate(zip(SENTENCES * 4, labels * 4, strict=True))]
    before = np.array([p["scores"] for p in det.predict_records(records)])
    cal = recalibrate(det, records)
    after = np.array([p["scores"] for p in det.predict_records(records)])
    assert det.config.temperature == pytest.approx(cal["temperature"])
    # The refitted temperature can only lower the records' negative log-likelihood.
    gold = [LABEL_INDEX[r["label"]] for r in records]
    nll = [-np.log(p[np.arange(len(gold)), gold]).mean() for p in (before, after)]
    assert nll[1] <= nll[0] + 1e-9
    # Rescaling the reported probabilities' logs is exactly a change of the model's temperature.
    t = cal["temperature"] / cal["temperature_before"]
    manual = np.exp(np.log(before) / t)
    assert np.allclose(manual / manual.sum(1, keepdims=True), after, atol=1e-5)


def test_run_chooses_min_role_score_on_dev_unless_told_not_to(tiny_base, tmp_path, monkeypatch):
    from claimsift.data.corpus import load_records
    from claimsift.data.samples import write_jsonl
    from claimsift.eval import role_threshold
    from claimsift.training.lowrank import build_parser, run

    dev = load_records("dev")
    docs = sorted({r["doc"] for r in dev})[:3]
    write_jsonl([r for r in dev if r["doc"] in docs], tmp_path / "corpus.jsonl")
    full = _fine_tuned(tiny_base, rank=2)
    full.save_pretrained(tmp_path / "full")
    seen = []

    def choose(det, records):  # what the extracted model is scored on, and a value that shows where it went
        seen.append({r["doc"] for r in records})
        return 0.7, {0.0: {"exact": {"f1": 0.2}, "token": {"f1": 0.4}},
                     0.7: {"exact": {"f1": 0.5}, "token": {"f1": 0.6}}}

    monkeypatch.setattr(role_threshold, "choose", choose)
    common = ["--model", str(tmp_path / "full"), "--rank", "2", "--corpus", str(tmp_path / "corpus.jsonl"),
              "--wikinews", str(tmp_path / "absent.jsonl"), "--no-calibrate"]
    tuned = run(build_parser().parse_args([*common, "--out", str(tmp_path / "tuned")]))
    assert seen == [set(docs)]
    assert ClaimDetector.from_pretrained(tuned, runtime="torch").config.min_role_score == 0.7
    assert "roles scored under 0.7 are left out" in (tuned / "README.md").read_text()
    kept = run(build_parser().parse_args([*common, "--out", str(tmp_path / "kept"), "--no-tune-role-score"]))
    assert ClaimDetector.from_pretrained(kept, runtime="torch").config.min_role_score == 0.0 and len(seen) == 1
