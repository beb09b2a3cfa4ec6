"""The README's example runs as written."""
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_example_runs():
    block = README.read_text().split("```python\n")[1].split("```")[0]
    scope = {}
    exec(compile(block, "README.md", "exec"), scope)
    assert scope["predicted"].shape == (64,)
    assert 0 < scope["loss"].item() < 10
