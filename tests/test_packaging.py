"""The one-import-root mapping: what `pip install .` puts into site-packages, and imports from the checkout."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_imports_work_from_the_repository_root():
    # `python -m pytest` and notebooks put the repository root first on sys.path; no folder there
    # may shadow the installed package (a top-level `claimsift/` without the mapped sub-packages did).
    code = "import claimsift.model.detector, claimsift.data.corpus, claimsift.training.config, claimsift.eval.metrics"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_wheel_has_one_import_root(tmp_path):
    command = [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run([*command, "-w", str(tmp_path)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("claimsift-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    roots = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert roots == {"claimsift"}
    for part in ("model/detector.py", "data/corpus/corpus.jsonl", "training/configs/default.json", "eval/metrics.py"):
        assert f"claimsift/{part}" in names
    assert any(name.startswith("claimsift/model/weights/default/") for name in names)
