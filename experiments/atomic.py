"""Write a file so that readers only ever see the old version or the complete new one:
the engine's :func:`minicnn.io.atomic_path`, creating the folder first."""
from __future__ import annotations

import contextlib
import json
import os

from minicnn.io import atomic_path as _engine_atomic_path


@contextlib.contextmanager
def atomic_path(path: str):
    """:func:`minicnn.io.atomic_path` for a path whose folder may not exist yet."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with _engine_atomic_path(path) as tmp:
        yield tmp


def write_json(path: str, value) -> None:
    """``value`` as indented JSON at ``path``, atomically (numbers NumPy made become floats)."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1, default=float)
