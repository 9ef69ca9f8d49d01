"""Which floating-point precision the network runs in: ``"auto"``, ``"fp32"`` or ``"bf16"``.

bf16 keeps fp32's range with fewer mantissa bits. Where the hardware multiplies bf16 natively
(NVIDIA GPUs since Ampere; x86 CPUs with AMX or AVX512-BF16, such as Xeon since Sapphire Rapids
and AMD Zen 4) matrix products run two to three times faster than in fp32, at no measured cost
in accuracy (eval/results/speed.md). Elsewhere bf16 is emulated and slower than fp32, so
``"auto"`` picks it only where it is native.

Probabilities in bf16 differ from fp32 in the second or third decimal. A desk that wants the same
numbers on every machine sets ``CLAIMSIFT_PRECISION=fp32`` (or ``bf16``): every ``"auto"`` (command
line, library, evaluation, training) then resolves to it.

>>> import torch
>>> resolve_precision("fp32", "cpu") is None
True
>>> resolve_precision("bf16", "cpu")
torch.bfloat16
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: an ONNX Runtime detector never loads torch
    import torch

PRECISIONS = ("auto", "fp32", "bf16")
ENV = "CLAIMSIFT_PRECISION"


def native_bf16(device: str | torch.device) -> bool:
    """True when ``device`` multiplies bf16 matrices in hardware (not emulated)."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        # torch.cpu exposes these CPUID checks only privately; a torch without them reads as "no".
        checks = (getattr(torch.cpu, "_is_amx_tile_supported", None),
                  getattr(torch.cpu, "_is_avx512_bf16_supported", None))
        return any(bool(check()) for check in checks if check is not None)
    return False


def cpu_lists_bf16(cpuinfo: str | os.PathLike = "/proc/cpuinfo") -> bool:
    """True when the kernel lists AMX-BF16 or AVX512-BF16 among the CPU's flags (Linux).

    :func:`native_bf16` asks torch; this reads ``/proc/cpuinfo``, so the command line can choose a
    runtime before deciding whether to import torch at all. Elsewhere (no such file) it says no.
    """
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return False
    return bool({"amx_bf16", "avx512_bf16"} & set(flags))


def requested(precision: str) -> str:
    """``precision`` as asked for: a name given wins, ``"auto"`` follows ``CLAIMSIFT_PRECISION`` if set."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "auto" and os.environ.get(ENV):
        precision = os.environ[ENV]
        if precision not in PRECISIONS:
            raise ValueError(f"{ENV}={precision!r}: expected one of {PRECISIONS}")
    return precision


def resolve_precision(precision: str, device: str | torch.device) -> torch.dtype | None:
    """The autocast dtype for ``precision`` on ``device``; ``None`` means plain fp32."""
    precision = requested(precision)
    if precision == "fp32":
        return None
    if precision == "bf16" or native_bf16(device):
        import torch

        return torch.bfloat16
    return None


def precision_name(dtype: torch.dtype | None) -> str:
    """The name of a resolved precision, for reports and model cards.

    >>> precision_name(resolve_precision("bf16", "cpu")), precision_name(None)
    ('bf16', 'fp32')
    """
    if dtype is None:
        return "fp32"
    import torch

    return "bf16" if dtype == torch.bfloat16 else "fp32"


def limit_onednn_cache(capacity: int = 32) -> None:
    """Cap oneDNN's primitive cache for bf16 on a CPU, unless the user already set it.

    Every new input shape gets its own oneDNN primitive, and in bf16 each holds a repacked copy of
    the weights. Before widths were rounded up, length-sorted batches were nearly all different
    shapes and the default cache (1,024) only grew: peak RSS 1,464 MB on 10,000 sentences, against
    930-990 MB with a cap of 8. Rounded widths (``BF16_CPU_WIDTH_MULTIPLE`` in the detector) leave
    about 16 shapes, which a cap of 8 cannot hold, so kernels were rebuilt as a group swept from short
    rows to long: on an AMX Xeon a cap of 32 labelled 401 sentences a second against 353 with 8, for
    48 MB more, and 1,024 gave 393 (eval/results/speed_xeon_cache.md). oneDNN reads the variable
    when it first builds a primitive, so this must run before the first bf16 forward pass; later it
    changes nothing.
    """
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", str(capacity))
