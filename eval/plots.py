"""Confusion-matrix and reliability-diagram PNGs.

Figures are drawn on a bare ``matplotlib.figure.Figure`` with the Agg canvas, never through
``pyplot``, so plotting needs no display and leaves the caller's matplotlib backend alone.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "c.png")
>>> p = plot_confusion([[3, 1], [0, 2]], ["no_claim", "speculation"], path)
>>> p.stat().st_size > 0
True
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from claimsift.model.labels import Label
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def _save(fig: Figure, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path


def _short(label: str) -> str:
    try:
        return Label(label).short
    except ValueError:
        return label


def plot_confusion(
    matrix: Sequence[Sequence[int]], labels: Sequence[str], path: str | os.PathLike, *, title: str = ""
) -> Path:
    """Write a confusion matrix PNG: gold rows, predicted columns, counts written in each cell.

    Colour is the row-normalised rate, so a rare label's errors are as visible as a common one's.
    """
    cm = np.asarray(matrix, dtype=float)
    rows = cm.sum(axis=1, keepdims=True)
    rate = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    fig = Figure(figsize=(1.2 * len(labels) + 1.5, 1.0 * len(labels) + 1.2))
    ax = fig.add_subplot()
    image = ax.imshow(rate, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, label="fraction of gold row")
    ticks = [_short(label) for label in labels]
    ax.set_xticks(range(len(labels)), ticks)
    ax.set_yticks(range(len(labels)), ticks)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    for (r, c), n in np.ndenumerate(cm):
        ax.text(c, r, f"{int(n)}", ha="center", va="center", color="white" if rate[r, c] > 0.5 else "black")
    ax.set_title(title or "confusion matrix")
    return _save(fig, path)


def plot_reliability(
    bins: Sequence[dict], path: str | os.PathLike, *, ece: float | None = None, title: str = ""
) -> Path:
    """Write a reliability diagram PNG from :func:`claimsift.eval.metrics.reliability_bins` output.

    Bars are each bin's accuracy; the diagonal is perfect calibration; the lower panel shows
    how many sentences fall in each bin, since a gap over three sentences means little.
    """
    fig = Figure(figsize=(5, 5.5))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    lower = np.array([b["lower"] for b in bins])
    width = np.array([b["upper"] - b["lower"] for b in bins])
    acc = np.array([b["accuracy"] if b["count"] else 0.0 for b in bins])
    conf = np.array([b["confidence"] if b["count"] else np.nan for b in bins])
    top.bar(lower, acc, width=width, align="edge", edgecolor="black", label="accuracy")
    top.plot(conf, acc, "o", color="tab:red", markersize=3, label="mean confidence")
    top.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy")
    top.legend(loc="upper left", fontsize=8)
    top.set_title((title or "reliability") + (f"  (ECE {ece:.3f})" if ece is not None else ""))
    bottom.bar(lower, [b["count"] for b in bins], width=width, align="edge", color="grey")
    bottom.set_xlim(0, 1)
    bottom.set_xlabel("top probability")
    bottom.set_ylabel("sentences")
    return _save(fig, path)
