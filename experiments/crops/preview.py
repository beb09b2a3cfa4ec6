"""A montage to check the knee locator by eye: whole-body scans with the window drawn,
and under each scan its two crops with their labels."""
from __future__ import annotations

import os

import numpy as np

from ..grades import grade_text
from ..scans.bonescan import ScanError, read_scan
from .archive import scan_files
from .knee import WINDOW, cut_crops, locate_knees


def write_preview(folder: str, out: str, count: int = 8) -> list[str]:
    """Draw the first ``count`` readable scans of ``folder`` into the PNG ``out``; returns
    the files shown."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    records = []
    for path in scan_files(folder):
        try:
            records.append(read_scan(path))
        except ScanError:
            continue
        if len(records) == count:
            break
    if not records:
        raise ValueError(f"preview: no readable scan in {folder!r}")
    fig = plt.figure(figsize=(2.2 * len(records), 11))
    grid = fig.add_gridspec(2, 2 * len(records), height_ratios=[4, 1], hspace=0.15, wspace=0.1)
    for i, record in enumerate(records):
        window = locate_knees(record.counts[0])
        scan = fig.add_subplot(grid[0, 2 * i:2 * i + 2])
        scan.imshow(np.sqrt(record.counts[0]), cmap="gray_r", aspect="auto")
        scan.add_patch(Rectangle((-0.5, window.start - 0.5), 256, WINDOW, fill=False,
                                 color="red", lw=1.2))
        scan.set_title(f"{record.file}\nconfidence {window.confidence:.2f}", fontsize=8)
        scan.axis("off")
        crops = cut_crops(record.counts, window.start, "anterior", mirror=False)
        for side in range(2):
            ax = fig.add_subplot(grid[1, 2 * i + side])
            ax.imshow(crops[side, 0], cmap="gray_r", vmin=0, vmax=max(crops.max(), 1e-6))
            ax.set_title(grade_text(record.labels[side]), fontsize=7)
            ax.axis("off")
    fig.suptitle("knee windows (red) and crops: columns 0-127 | 128-255, anterior view")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return [r.file for r in records]
