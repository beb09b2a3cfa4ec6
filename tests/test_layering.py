"""The arrows that must never exist in the house (docs/architecture.md): the engine knows no
knees, nothing of ours imports torch, the kernels know no Tensor, ops know no layers, the
engine's tests import no study code.

Every ``import`` in the project's code, including those inside functions, is resolved to a
dotted module name (relative imports against the file's package; ``from pkg import name`` also
counts as importing ``pkg.name``, which covers submodules imported that way) and checked
against the table of forbidden arrows.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# (importing package, imported package, why it must not be imported)
FORBIDDEN = [
    ("minicnn", "torch", "PyTorch is the tests' oracle, not a dependency"),
    ("experiments", "torch", "PyTorch is the tests' oracle, not a dependency"),
    ("minicnn", "experiments", "the engine knows no knees"),
    ("minicnn.kernels", "minicnn.tensor", "kernels work on raw arrays and know no Tensor"),
    ("minicnn.kernels", "minicnn.autograd", "kernels work on raw arrays and know no tape"),
    ("minicnn.kernels", "minicnn.ops", "kernels sit below the ops"),
    ("minicnn.kernels", "minicnn.nn", "kernels sit below the layers"),
    ("minicnn.ops", "minicnn.nn", "ops sit below the layers"),
    ("minicnn.ops", "minicnn.optim", "ops sit below the optimizers"),
    ("tests.engine", "experiments", "the engine's tests need no study"),
]


def module_name(path: Path, root: Path) -> str:
    """``minicnn/ops/conv.py`` -> ``minicnn.ops.conv``; a package's ``__init__`` is the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Every module ``path`` imports anywhere in its body, as absolute dotted names."""
    name = module_name(path, root)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(paths, root: Path = ROOT) -> list[str]:
    """One line per forbidden arrow found: ``file: imported (why)``, the outermost module only
    (``from torch.nn import functional`` is reported as ``torch.nn``)."""
    lines = []
    for path in paths:
        name = module_name(path, root)
        reported = []
        for imported in sorted(imported_modules(path, root)):
            if any(within(imported, outer) for outer in reported):
                continue
            for source, target, why in FORBIDDEN:
                if within(name, source) and within(imported, target):
                    lines.append(f"{path.relative_to(root)}: {imported} ({why})")
                    reported.append(imported)
    return lines


def project_files():
    folders = ("minicnn", "experiments", "tests/engine")
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def test_no_forbidden_arrow_in_the_project():
    files = project_files()
    assert len(files) > 50  # the scan really sees both packages
    assert violations(files) == []


@pytest.mark.parametrize("relative, source, expected", [
    ("minicnn/kernels/window.py", "from ..tensor import Tensor\n",
     "minicnn.tensor (kernels work on raw arrays and know no Tensor)"),
    ("minicnn/ops/conv.py", "def f():\n    from .. import nn\n",
     "minicnn.nn (ops sit below the layers)"),
    ("minicnn/kernels/__init__.py", "from ..autograd import Function\n",
     "minicnn.autograd (kernels work on raw arrays and know no tape)"),
    ("minicnn/io.py", "import experiments.cli as cli\n",
     "experiments.cli (the engine knows no knees)"),
    ("experiments/cli.py", "from torch.nn import functional\n",
     "torch.nn (PyTorch is the tests' oracle, not a dependency)"),
    ("tests/engine/nn/test_x.py", "from experiments.training.models import build_model\n",
     "experiments.training.models (the engine's tests need no study)"),
])
def test_the_scanner_finds_each_kind_of_forbidden_import(tmp_path, relative, source, expected):
    path = tmp_path / relative
    path.parent.mkdir(parents=True)
    path.write_text(source)
    assert violations([path], tmp_path) == [f"{relative}: {expected}"]


def test_allowed_imports_are_not_reported(tmp_path):
    path = tmp_path / "minicnn/ops/conv.py"
    path.parent.mkdir(parents=True)
    path.write_text("import numpy as np\nfrom .. import backend\nfrom ..kernels import Window\n"
                    "from ..autograd import Function\n")
    assert imported_modules(path, tmp_path) >= {"minicnn.backend", "minicnn.kernels.Window",
                                                "minicnn.autograd.Function", "numpy"}
    assert violations([path], tmp_path) == []
