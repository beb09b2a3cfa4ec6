"""Save and load state dicts (a model's, an optimizer's, or a dict of both), never by pickle.

``save(obj, path)`` picks the format from the name: a path ending in ``.safetensors`` gets
the safetensors format (a flat dict of tensors, readable by PyTorch's
``safetensors.torch.load_file``; ``minicnn/safetensors_format.py``); any other name
(``model.pth``, ``run.npz``, ...) gets minicnn's own container, an ``.npz`` archive that
holds every array under ``a0``, ``a1``, ... and one text entry, ``__minicnn__``, with a
JSON skeleton of the object: dicts (string or int keys), lists, tuples, numbers, strings,
None, Tensors and arrays (by reference to their entry). Loading it uses
``numpy.load(..., allow_pickle=False)`` and rebuilds the same structure, with Tensors as
Tensors and arrays as NumPy arrays.

``load(path)`` tells the formats apart by their first bytes, not the name: a zip archive is
minicnn's container, unless it holds a ``data.pkl`` (then it is ``torch.save``'s format, a
pickle); a file starting with byte 0x80 is a legacy ``torch.save`` pickle stream; an 8-byte
length followed by ``{`` is safetensors. A torch pickle is refused with the one-line
conversion to safetensors: unpickling can run arbitrary code, so it is never done.

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

from . import safetensors_format
from .backend import is_cupy_array, to_device
from .tensor import Tensor, device

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
    """Write ``obj`` (e.g. ``model.state_dict()`` or ``{'model': ..., 'optim': ...}``) to
    ``path``: safetensors when the name ends in ``.safetensors`` (``obj`` must then be a flat
    dict of tensors, else ``TypeError`` naming the entry), minicnn's container otherwise."""
    path = os.fspath(path)
    if path.endswith(safetensors_format.SUFFIX):
        arrays = safetensors_format.to_arrays(obj, path)  # checked before any file is made
        with atomic_path(path) as tmp:
            safetensors_format.write(arrays, tmp)
        return
    arrays: dict = {}
    skeleton = {"version": FORMAT_VERSION, "root": _encode(obj, arrays, "the root")}
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **{SKELETON: np.array(json.dumps(skeleton))}, **arrays)


TORCH_PICKLE = ("{path} is a PyTorch pickle checkpoint (torch.save's format), and minicnn never "
                "unpickles: a pickle can run arbitrary code when loaded. Convert it once to "
                "safetensors with PyTorch, e.g. `from safetensors.torch import save_file; "
                "save_file(model.state_dict(), \"model.safetensors\")` after loading it into "
                "your torch model (or `save_file(torch.load(\"{path}\"), ...)` for a plain "
                "state dict), then minicnn.load(\"model.safetensors\")")


def _format_of(path: str) -> str:
    """'npz', 'safetensors' or 'torch-pickle', from the file's first bytes (module docstring);
    'npz' for anything else (its reader says what is wrong)."""
    with open(path, "rb") as f:
        head = f.read(16)
    if head[:1] == b"\x80":
        return "torch-pickle"
    if safetensors_format.looks_like_safetensors(head, os.path.getsize(path)):
        return "safetensors"
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            if any(name.endswith("data.pkl") for name in archive.namelist()):
                return "torch-pickle"
    return "npz"


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


def _moved(obj, device):
    """``obj`` with every Tensor inside its dicts, lists and tuples moved to ``device``."""
    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return type(obj)((key, _moved(value, device)) for key, value in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_moved(value, device) for value in obj)
    return obj


def load(path, map_location=None, *, weights_only=None, mmap=None):
    """Read what :func:`save` wrote, or any safetensors file (as ``{key: Tensor}``), whatever
    the file's name. Raises ``ValueError`` for a file that is not one (corrupt, truncated,
    another format, or needing pickle; a ``torch.save`` file's message says how to convert
    it).

    The keywords are torch's, so ``torch.load(PATH, weights_only=True)`` and
    ``map_location=device`` run unchanged: ``map_location`` (a device or its name) moves every
    Tensor there; ``weights_only`` and ``mmap`` change nothing, since nothing is ever
    unpickled (every load is weights-only) and the file is read whole. A callable or dict
    ``map_location`` (torch's remapping forms) raises ``TypeError``."""
    if map_location is not None and not isinstance(map_location, (str, device)):
        raise TypeError(f"minicnn.load: map_location must be a device or a device name, got "
                        f"{type(map_location).__name__} (callable and dict remapping are not "
                        f"supported)")
    obj = _read(path)
    return obj if map_location is None else _moved(obj, map_location)


def _read(path):
    """The object stored at ``path`` (see :func:`load`)."""
    path = os.fspath(path)
    kind = _format_of(path)
    if kind == "torch-pickle":
        raise ValueError("minicnn.load: " + TORCH_PICKLE.format(path=path))
    if kind == "safetensors":
        return safetensors_format.read(path)
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
        raise ValueError(f"minicnn.load: {path} is not a readable minicnn checkpoint: "
                         f"{exc}") from exc
    except ValueError as exc:
        if str(exc).startswith("minicnn.load"):
            raise
        raise ValueError(f"minicnn.load: {path} is not a readable minicnn checkpoint: "
                         f"{exc}") from exc
