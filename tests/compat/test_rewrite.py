"""The import rewrite that turns a torch program into a minicnn one."""
import pytest

from tests.compat.rewrite import to_minicnn


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
    assert to_minicnn(program) == "import minicnn as torch\n\n\ndef f():\n    return torch.zeros(2)\n"
