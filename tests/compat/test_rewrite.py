"""The import rewrite that turns a torch program into a minicnn one."""
import pytest

from tests.compat.program_runner import PROGRAMS
from tests.compat.rewrite import to_minicnn
from tests.test_layering import imported_modules, within


@pytest.mark.parametrize("before, after", [
    ("import torch\n", "import minicnn as torch\n"),
    ("import torch.nn as nn\n", "import minicnn.nn as nn\n"),
    ("import torch.nn.functional as F\n", "import minicnn.nn.functional as F\n"),
    ("import torch.optim as optim\n", "import minicnn.optim as optim\n"),
    ("from torch.utils.data import DataLoader, TensorDataset\n",
     "from minicnn.utils.data import DataLoader, TensorDataset\n"),
    ("from torch.optim.lr_scheduler import StepLR\n",
     "from minicnn.optim.lr_scheduler import StepLR\n"),
    ("from torch import nn\n", "from minicnn import nn\n"),
    ("import torch.utils.data\n", "import minicnn.utils.data, minicnn as torch\n"),
    ("import os, torch  # both\n", "import os, minicnn as torch  # both\n"),
    ("    import torch\n", "    import minicnn as torch\n"),
])
def test_import_lines_move_under_minicnn(before, after):
    assert to_minicnn(before) == after


@pytest.mark.parametrize("line", [
    "x = torch.tensor([1.0])\n",
    "import torchvision\n",
    "from torchvision import datasets\n",
    "import numpy as np\n",
    "print('import torch')\n",
    "model = torch.nn.Linear(2, 3)  # import torch\n",
])
def test_other_lines_stay_as_written(line):
    assert to_minicnn(line) == line


def test_a_program_keeps_its_layout():
    program = "import torch\n\n\ndef f():\n    return torch.zeros(2)\n"
    expected = "import minicnn as torch\n\n\ndef f():\n    return torch.zeros(2)\n"
    assert to_minicnn(program) == expected


@pytest.mark.parametrize("path", sorted(PROGRAMS.glob("*.py")), ids=lambda p: p.stem)
def test_each_program_loses_every_torch_import_and_only_its_import_lines_change(path, tmp_path):
    source = path.read_text()
    rewritten = to_minicnn(source)
    (tmp_path / "rewritten.py").write_text(rewritten)
    assert torch_imports(path), "the program is written against torch"
    assert torch_imports(tmp_path / "rewritten.py") == []
    changed = [(a, b) for a, b in zip(source.splitlines(), rewritten.splitlines()) if a != b]
    assert len(source.splitlines()) == len(rewritten.splitlines())
    assert changed and all(a.lstrip().startswith(("import ", "from ")) for a, _ in changed)


def torch_imports(path):
    """The torch modules ``path`` imports (its relative imports resolved against its folder)."""
    return sorted(m for m in imported_modules(path, path.parent) if within(m, "torch"))
