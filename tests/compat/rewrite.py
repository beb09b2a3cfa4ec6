"""The mechanical change a user makes to run a PyTorch program on minicnn: only the import
lines, every ``torch`` module path becoming the same path under ``minicnn``.

``import torch`` -> ``import minicnn as torch``; ``import torch.nn as nn`` ->
``import minicnn.nn as nn``; ``from torch.x.y import z`` -> ``from minicnn.x.y import z``.
A bare ``import torch.nn`` (which binds the name ``torch``) becomes
``import minicnn.nn; import minicnn as torch`` so that ``torch.nn...`` still resolves.
Lines that are not imports are left exactly as written."""
import re

_IMPORT = re.compile(r"^(?P<indent>\s*)import\s+(?P<names>[^#\n]+?)\s*(?P<comment>#.*)?$")
_FROM = re.compile(r"^(?P<indent>\s*)from\s+torch(?P<rest>(\.\w+)*)(?P<tail>\s+import\s.*)$")


def _rewrite_import_item(item: str) -> str:
    """One item of ``import a, b as c``: a torch path moves under minicnn, keeping its name."""
    parts = item.split()
    path = parts[0]
    if path != "torch" and not path.startswith("torch."):
        return item
    new_path = "minicnn" + path[len("torch"):]
    if len(parts) == 3:                       # import torch.nn as nn
        return f"{new_path} as {parts[2]}"
    if path == "torch":                       # import torch
        return "minicnn as torch"
    return f"{new_path}, minicnn as torch"    # import torch.nn (binds the name torch)


def to_minicnn(source: str) -> str:
    """``source`` with its torch import lines rewritten to minicnn's (see the module doc)."""
    lines = []
    for line in source.splitlines(keepends=True):
        body = line.rstrip("\n")
        ending = line[len(body):]
        from_match = _FROM.match(body)
        import_match = _IMPORT.match(body)
        if from_match:
            body = f"{from_match['indent']}from minicnn{from_match['rest']}{from_match['tail']}"
        elif import_match:
            items = [_rewrite_import_item(i.strip()) for i in import_match["names"].split(",")]
            comment = f"  {import_match['comment']}" if import_match["comment"] else ""
            body = f"{import_match['indent']}import {', '.join(items)}{comment}"
        lines.append(body + ending)
    return "".join(lines)
