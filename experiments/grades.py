"""The knee grades: Kellgren-Lawrence (KL) 0..4, their names, and the codes of the scan files.

The study's files label each knee with a code (``diaginfo.kneejointid``): 2 Normal,
3 minimal, 4 mild, 5 moderate, 6 severe degenerative joint disease (DJD), and -1 for a knee
left unspecified. The grade is ``code - 2``; an unspecified knee keeps -1 and gets no crop.
"""
from __future__ import annotations

NAMES = ("normal", "minimal", "mild", "moderate", "severe")  # KL grade 0, 1, 2, 3, 4
COUNT = len(NAMES)  # the number of grades: the classes the study's models tell apart
DJD_FROM = 2  # "mild DJD or worse": the grades counted as disease
UNSPECIFIED = -1  # the code, and the label, of a knee without a grade
FIRST_CODE = 2  # the code of grade 0
CODES = tuple(range(FIRST_CODE, FIRST_CODE + COUNT)) + (UNSPECIFIED,)


def grade_of_code(code) -> int:
    """The grade 0..4 of a file's knee code 2..6; -1 stays -1 (unspecified)."""
    return UNSPECIFIED if code == UNSPECIFIED else int(code) - FIRST_CODE


def code_of_grade(grade: int) -> int:
    """The file's knee code 2..6 of a grade 0..4; -1 stays -1 (unspecified)."""
    return UNSPECIFIED if grade == UNSPECIFIED else int(grade) + FIRST_CODE


def grade_text(grade: int) -> str:
    """``'KL2 mild'``, or ``'unspecified'`` for -1."""
    return "unspecified" if grade == UNSPECIFIED else f"KL{grade} {NAMES[grade]}"
