"""Small rendering helpers shared by the reports: JSON-safe data and Markdown cells and tables.

>>> json_safe({"a": (1, float("nan"))})
{'a': [1, None]}
>>> fmt(0.12345), fmt(None), fmt_ci((0.1, 0.2))
('0.123', 'n/a', '0.100–0.200')
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from claimsift.model.labels import Label


def json_safe(value):
    """Tuples become lists, numpy scalars Python numbers, and NaN or infinity ``None``."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def fmt(x: float | None) -> str:
    """Three decimals, or ``n/a`` for a missing or undefined figure."""
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def fmt_ci(ci: Sequence[float] | None) -> str:
    """A confidence interval as ``low–high``."""
    return "n/a" if ci is None else f"{fmt(ci[0])}–{fmt(ci[1])}"


def confusion_table(matrix: Sequence[Sequence[int]], labels: Sequence[str], corner: str) -> list[str]:
    """Markdown lines of a confusion matrix with short label names; ``corner`` names the axes."""
    shorts = [Label(label).short for label in labels]
    lines = [f"| {corner} | " + " | ".join(shorts) + " |", "|---|" + "---:|" * len(shorts)]
    for short, row in zip(shorts, matrix, strict=True):
        lines.append(f"| {short} | " + " | ".join(str(int(n)) for n in row) + " |")
    return lines
