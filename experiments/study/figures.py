"""The report's figures: a forest plot of the differences from the base, per factor a bar
chart and the learning curves, and the best condition's confusion matrix; each PNG is written
atomically (a reader never sees half a PNG)."""
from __future__ import annotations

import numpy as np

from ..atomic import atomic_path
from ..grades import COUNT, NAMES
from ..splits import PROPOSAL


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path: str) -> None:
    """The figure as a PNG at ``path``, atomically."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    _pyplot().close(fig)


def forest_figure(results, analysis: dict, path: str) -> None:
    plt = _pyplot()
    rows = results[1:]
    fig, ax = plt.subplots(figsize=(7.5, 1.0 + 0.34 * len(rows)))
    for y, r in enumerate(rows):
        c = analysis["comparisons"][r.label]
        delta = c["delta"]
        if not delta or not np.isfinite(delta["estimate"]):
            ax.text(0, y, "n/a", va="center", ha="center", fontsize=8, color="grey")
            continue
        ax.errorbar(delta["estimate"], y, xerr=[[delta["estimate"] - delta["low"]],
                                                [delta["high"] - delta["estimate"]]],
                    fmt="o", color="#4c78a8", capsize=3)
        if not analysis["too_small"] and np.isfinite(c["p_holm"]):
            ax.annotate(f"Holm p {c['p_holm']:.3f}", (1.01, y), xycoords=("axes fraction", "data"),
                        va="center", fontsize=7)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(rows)), [r.label for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("ΔQWK vs base (pooled out-of-fold, 95% paired patient-bootstrap interval)")
    ax.set_title("Difference in quadratic-weighted kappa from the base condition", fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def bars_figure(rows, summaries, factor: str, path: str) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(rows), 3.2))
    for x, r in enumerate(rows):
        s = summaries[r.label]
        if s and np.isfinite(s["qwk"]["estimate"]):
            q = s["qwk"]
            ax.bar(x, q["estimate"], color="#4c78a8")
            ax.errorbar(x, q["estimate"], color="black", capsize=4,
                        yerr=[[q["estimate"] - q["low"]], [q["high"] - q["estimate"]]])
    ax.set_xticks(range(len(rows)), [r.label for r in rows], rotation=20, ha="right", fontsize=8)
    lows = [summaries[r.label]["qwk"]["low"] for r in rows if summaries[r.label]]
    ax.set_ylim(min([0.0] + [v for v in lows if np.isfinite(v)]), 1.0)
    ax.set_ylabel("QWK (pooled, 95% CI)")
    ax.set_title(factor)
    fig.tight_layout()
    _save(fig, path)


def curves_figure(rows, factor: str, path: str) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for r in rows:
        curves = [[h["val_qwk"] for h in run["history"]]
                  for s, run in r.runs.items() if s != PROPOSAL]
        length = min(map(len, curves), default=0)
        if length == 0:  # no run of this condition has finished an epoch yet
            continue
        ax.plot(range(1, length + 1), np.nanmean([c[:length] for c in curves], axis=0),
                label=r.label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation QWK (mean over runs)")
    if ax.get_lines():
        ax.legend(fontsize=7)
    ax.set_title(f"{factor}: learning curves")
    fig.tight_layout()
    _save(fig, path)


def confusion_figure(confusion: np.ndarray, label: str, path: str) -> None:
    """Rows coloured by the share of the reference grade's knees, annotated with counts."""
    plt = _pyplot()
    totals = confusion.sum(1, keepdims=True)
    share = np.divide(confusion, totals, out=np.zeros(confusion.shape), where=totals > 0)
    fig, ax = plt.subplots(figsize=(4.6, 3.9))
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(COUNT):
        for j in range(COUNT):
            ax.text(j, i, str(confusion[i, j]), ha="center", va="center", fontsize=9,
                    color="white" if share[i, j] > 0.6 else "black")
    ax.set_xticks(range(COUNT), NAMES, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(COUNT), NAMES, fontsize=8)
    ax.set_xlabel("predicted grade")
    ax.set_ylabel("reference grade")
    ax.set_title(f"{label}: confusion matrix", fontsize=9)
    fig.colorbar(image, ax=ax, label="share of the reference grade's knees", shrink=0.8)
    fig.tight_layout()
    _save(fig, path)
