"""Nothing under minicnn/ or experiments/ imports torch (PyTorch is only the tests' oracle)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def torch_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "torch"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "torch":
            found.append(node.module)
    return found


def test_project_code_never_imports_torch():
    files = sorted(p for folder in ("minicnn", "experiments") for p in (ROOT / folder).rglob("*.py"))
    assert len(files) > 20  # the scan really sees the package
    offenders = {str(p.relative_to(ROOT)): torch_imports(p) for p in files if torch_imports(p)}
    assert offenders == {}


def test_the_scanner_finds_a_torch_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom torch.nn import functional\nimport torch.optim as o\n")
    assert torch_imports(sample) == ["torch.nn", "torch.optim"]
