"""End-to-end on the shipped model (slow: loads real weights; runs once in CI)."""

from pathlib import Path

import pytest
from claimsift.model.bases import mpnet_dir

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


# Read at collection, before the test session points the cache at a temporary folder.
USER_MPNET = mpnet_dir()


needs_mpnet = pytest.mark.skipif(not (USER_MPNET / "config.json").exists(),
                                 reason="the MPNet base is not installed (claimsift download mpnet)")


def _accurate_petrova():
    import os

    # The user's base, seen from the session's temporary cache (merged weights are written there).
    link = Path(os.environ["CLAIMSIFT_CACHE"]) / USER_MPNET.name
    if not link.exists():
        link.symlink_to(USER_MPNET, target_is_directory=True)
    acc = ClaimDetector.from_pretrained("accurate", runtime="torch")
    results = acc.score((EXAMPLES / "draft_insight.txt").read_text())
    return next(r for r in results if "Anya Petrova" in r.text)


@needs_mpnet
def test_accurate_model_flags_the_example_expert():
    assert _accurate_petrova().label == "unverifiable_expert_claim"


@needs_mpnet
def test_accurate_model_names_the_example_expert_and_her_affiliation():
    att = _accurate_petrova().attribution
    assert att.speaker.text == "Dr. Anya Petrova"
    assert "Institute for Strategic Studies" in att.role.text


def test_accurate_model_without_its_base_says_how_to_get_it(monkeypatch, tmp_path):
    from claimsift.model.bases import BaseNotFoundError

    monkeypatch.setenv("CLAIMSIFT_CACHE", str(tmp_path))  # an empty cache: no MPNet base
    with pytest.raises(BaseNotFoundError, match="claimsift download mpnet"):
        ClaimDetector.from_pretrained("accurate")
