"""``minicnn.utils``, shaped like ``torch.utils``: ``minicnn.utils.data``."""
from . import data

__all__ = ["data"]
