"""Refitting the attribution-tag head on frozen token states."""

import pytest
from claimsift.model.detector import ClaimDetector
from claimsift.training.heads import refit_tag_head

ROWS = [
    ("Mayor Ruth Ong, the city's budget chief, told reporters the bridge would reopen.",
     "Mayor Ruth Ong", "the city's budget chief", "told reporters"),
    ("Dr. Anya Petrova, a geopolitical analyst at the institute, warned that talks may fail.",
     "Dr. Anya Petrova", "a geopolitical analyst at the institute", "warned"),
    ("Economists at the central bank, its research arm, have long argued rates will rise.",
     "Economists", "its research arm", "have long argued"),
]


def _records(n_copies: int = 4):
    recs = []
    for d in range(n_copies):
        for i, (text, speaker, role, cue) in enumerate(ROWS):
            spans = {k: [text.index(v), text.index(v) + len(v)] for k, v in
                     (("speaker", speaker), ("role", role), ("cue", cue))}
            recs.append({"doc": f"d{d}", "i": i, "text": text, "label": "attributed_quote", "spans": spans})
    return recs


def test_refit_tag_head_fits_the_training_tags_and_leaves_the_encoder(tiny_base):
    det = ClaimDetector.new(str(tiny_base), device="cpu", adapter="full", context="none")
    encoder_before = {k: v.clone() for k, v in det.net.encoder.state_dict().items()}
    fit = refit_tag_head(det, _records())
    assert fit["accuracy_after"] > fit["accuracy_before"] and fit["accuracy_after"] > 0.9
    for k, v in det.net.encoder.state_dict().items():
        assert (v == encoder_before[k]).all()


def test_refit_tag_head_needs_every_tag(tiny_base):
    det = ClaimDetector.new(str(tiny_base), device="cpu", adapter="full", context="none")
    recs = [dict(r, spans={**r["spans"], "role": None}) for r in _records()]
    with pytest.raises(ValueError, match="never occur"):
        refit_tag_head(det, recs)


def test_refit_tag_head_says_to_load_in_torch(tiny_model_dir):
    det = ClaimDetector.from_pretrained(tiny_model_dir, runtime="onnx")  # the library's default on most laptops
    with pytest.raises(TypeError, match="runtime='torch'"):
        refit_tag_head(det, _records())
