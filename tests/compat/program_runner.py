"""Runs one program of ``programs/`` once with torch and once with its imports rewritten to
minicnn (:func:`tests.compat.rewrite.to_minicnn`), from the same initial weights.

A program is a torch source text whose ``main()`` trains, tests and returns its metrics as a
dict. It reads its initial state dict from the path in ``COMPAT_INIT_WEIGHTS`` with
``torch.load`` + ``load_state_dict``: the weights are drawn once by torch and written twice, as
``torch.save``'s pickle for torch and as safetensors for minicnn (which never unpickles), so
both engines start from the same numbers however their random streams differ. The weights go
through the program's own loading code rather than being copied in by the test, so that
``torch.load`` and ``load_state_dict`` are exercised as a user's program calls them.
``COMPAT_NO_DROPOUT`` asks the program to set its dropout probabilities to 0 (the masks are
random draws, which the engines make differently)."""
import contextlib
import io
import os
import pathlib
import time

import safetensors.torch
import torch

from tests.compat.rewrite import to_minicnn

PROGRAMS = pathlib.Path(__file__).parent / "programs"


def program_source(name: str) -> str:
    return (PROGRAMS / f"{name}.py").read_text()


def _execute(source: str, filename: str, folder: pathlib.Path, environment: dict):
    """``main()`` of ``source`` run in ``folder`` (where it saves its files) with
    ``environment`` added to ``os.environ``: (metrics, seconds, printed text)."""
    namespace = {"__name__": "compat_program", "__file__": filename}
    printed = io.StringIO()
    saved_env = {k: os.environ.get(k) for k in environment}
    saved_cwd = os.getcwd()
    os.environ.update(environment)
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own program
            start = time.perf_counter()
            metrics = namespace["main"]()
            seconds = time.perf_counter() - start
    finally:
        os.chdir(saved_cwd)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key)
            else:
                os.environ[key] = value
    return metrics, seconds, printed.getvalue()


def initial_weights(source: str, model_expression: str, folder: pathlib.Path):
    """Torch's freshly initialised ``model_expression`` (evaluated in the program's namespace
    after ``torch.manual_seed(0)``) saved as ``init.pt`` and ``init.safetensors``."""
    namespace = {"__name__": "compat_program"}
    exec(compile(source, "initial_weights", "exec"), namespace)  # noqa: S102
    torch.manual_seed(0)
    state = eval(model_expression, namespace).state_dict()  # noqa: S307 - our own expression
    torch.save(state, folder / "init.pt")
    safetensors.torch.save_file({k: v.contiguous() for k, v in state.items()},
                                str(folder / "init.safetensors"))
    return folder / "init.pt", folder / "init.safetensors"


def run_both(name: str, model_expression: str, folder: pathlib.Path):
    """The program ``name`` under torch and under minicnn: ``{engine: (metrics, seconds,
    printed)}``."""
    source = program_source(name)
    torch_init, minicnn_init = initial_weights(source, model_expression, folder)
    runs = {}
    for engine, text, init in (("torch", source, torch_init),
                               ("minicnn", to_minicnn(source), minicnn_init)):
        engine_folder = folder / engine
        engine_folder.mkdir()
        runs[engine] = _execute(text, f"{name}[{engine}]", engine_folder,
                                {"COMPAT_INIT_WEIGHTS": str(init), "COMPAT_NO_DROPOUT": "1"})
    return runs


def report(name: str, runs: dict) -> str:
    """One line per engine: the metrics and the seconds ``main()`` took."""
    lines = []
    for engine, (metrics, seconds, _) in runs.items():
        figures = ", ".join(f"{k}={v:.6g}" for k, v in metrics.items())
        lines.append(f"{name:>12} {engine:>8}: {figures} ({seconds:.2f} s)")
    return "\n".join(lines)
