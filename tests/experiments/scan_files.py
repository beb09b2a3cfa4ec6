"""Helpers that write small scan folders for the data tests."""
import numpy as np

from experiments.scans.matfile import write_mat
from experiments.scans.phantom import mat_contents, patient_and_counts


def phantom_variables(index: int = 0, seed: int = 0) -> dict:
    patient, counts = patient_and_counts(index, seed)
    return mat_contents(patient, counts)


def write_good(folder, index: int, version: str = "v5") -> str:
    variables = phantom_variables(index)
    path = str(folder / f"{index + 1:07d}.mat")
    write_mat(path, variables, version)
    return path


def with_changes(variables: dict, **changes) -> dict:
    """A copy of ``variables`` with keys replaced (value None: removed)."""
    out = dict(variables)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def labels(a, b) -> dict:
    return {"kneejointid": np.array([[a, b]], dtype=np.float64)}
