"""Temporary: ``experiments.models`` for the engine tests that still import it until the
house-engine branch lands (they stop importing experiments); delete then."""
from .training.models import proposal_simple_cnn  # noqa: F401
