"""Save and load state dicts (a model's, an optimizer's, or a dict of both) as ``.npz``.

Never pickle. The archive holds every array under ``a0``, ``a1``, ... and one text entry,
``__minicnn__``, with a JSON skeleton of the object: dicts (string or int keys), lists,
tuples, numbers, strings, None, Tensors and arrays (by reference to their entry). Loading
uses ``numpy.load(..., allow_pickle=False)`` and rebuilds the same structure, with
Tensors as Tensors and arrays as NumPy arrays.

``save`` writes to a temporary file beside the target and renames it into place, so a
crash mid-write never leaves a half-written checkpoint where a good one was.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile

import numpy as np

from .backend import is_cupy_array, to_device
from .tensor import Tensor

SKELETON = "__minicnn__"
FORMAT_VERSION = 1


def _encode(obj, arrays: dict, where: str):
    if isinstance(obj, Tensor):
        return {"t": "tensor", "ref": _store(obj.array, arrays)}
    if isinstance(obj, np.ndarray) or is_cupy_array(obj):
        return {"t": "array", "ref": _store(obj, arrays)}
    if isinstance(obj, np.generic):
        obj = obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"t": "value", "v": obj}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"minicnn.save: key {key!r} at {where} is not a str or int")
            items.append([key, _encode(value, arrays, f"{where}[{key!r}]")])
        return {"t": "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        return {"t": type(obj).__name__,
                "items": [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]}
    raise TypeError(f"minicnn.save: cannot save a {type(obj).__name__} at {where}; "
                    f"save state dicts of tensors, arrays, numbers and strings")


def _store(array, arrays: dict) -> str:
    ref = f"a{len(arrays)}"
    arrays[ref] = to_device(array, "cpu")
    return ref


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path`` (whose folder must exist); when the block ends
    without error it is renamed over ``path`` in one atomic step, otherwise it is removed
    and ``path`` keeps what it held."""
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    handle, tmp = tempfile.mkstemp(prefix=".partial-", suffix=".tmp", dir=folder)
    os.close(handle)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save(obj, path) -> None:
    """Write ``obj`` (e.g. ``model.state_dict()`` or ``{'model': ..., 'optim': ...}``) to ``path``."""
    arrays: dict = {}
    skeleton = {"version": FORMAT_VERSION, "root": _encode(obj, arrays, "the root")}
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **{SKELETON: np.array(json.dumps(skeleton))}, **arrays)


def _decode(node, archive, path: str):
    kind = node.get("t") if isinstance(node, dict) else None
    if kind == "value":
        return node["v"]
    if kind in ("tensor", "array"):
        ref = node.get("ref")
        if ref not in archive.files:
            raise ValueError(f"minicnn.load: {path} names array {ref!r}, which it does not hold")
        array = archive[ref]
        return Tensor(array) if kind == "tensor" else array
    if kind == "dict":
        return {key: _decode(value, archive, path) for key, value in node["items"]}
    if kind in ("list", "tuple"):
        items = [_decode(value, archive, path) for value in node["items"]]
        return items if kind == "list" else tuple(items)
    raise ValueError(f"minicnn.load: {path} has an unreadable structure entry {node!r:.80}")


def load(path):
    """Read what :func:`save` wrote. Raises ``ValueError`` for a file that is not a minicnn
    checkpoint (corrupt, truncated, another format, or needing pickle)."""
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            if SKELETON not in archive.files:
                raise ValueError(f"minicnn.load: {path} is an .npz archive but not a minicnn "
                                 f"checkpoint (no {SKELETON} entry)")
            skeleton = json.loads(str(archive[SKELETON]))
            return _decode(skeleton["root"], archive, path)
    except FileNotFoundError:
        raise
    except (OSError, zipfile.BadZipFile, EOFError, KeyError, TypeError,
            json.JSONDecodeError) as exc:
        raise ValueError(f"minicnn.load: {path} is not a readable minicnn checkpoint: {exc}") from exc
    except ValueError as exc:
        if str(exc).startswith("minicnn.load"):
            raise
        raise ValueError(f"minicnn.load: {path} is not a readable minicnn checkpoint: {exc}") from exc
