"""End-to-end on the shipped model (slow: loads real weights; runs once in CI)."""

from pathlib import Path

import pytest

from claimsift import ClaimDetector

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def det():
    return ClaimDetector.from_pretrained()


def test_default_model_flags_the_example_expert_with_name_and_affiliation(det):
    results = det.score((EXAMPLES / "draft_insight.txt").read_text())
    petrova = next(r for r in results if "Anya Petrova" in r.text)
    assert petrova.label == "unverifiable_expert_claim"
    a = petrova.attribution
    assert a is not None and a.named and "Anya Petrova" in a.speaker.text
    assert a.role is not None and "Institute for Strategic Studies" in a.role.text
    assert "Petrova" in petrova.verify
    assert next(r for r in results if r.text.startswith("Home >")).label == "no_claim"
    assert next(r for r in results if r.text.startswith("What are your predictions")).label == "no_claim"


def test_quickstart_notebook_runs_top_to_bottom():
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(EXAMPLES / "quickstart.ipynb", as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}}).execute()
    outputs = "".join(str(o) for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", []))
    assert "macro-F1" in outputs and "unverifiable_expert_claim" in outputs
