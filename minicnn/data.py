"""``minicnn.data``: another name for :mod:`minicnn.utils.data` (the same objects), kept for
code written before ``minicnn.utils.data`` existed."""
from .utils.data import *  # noqa: F401,F403
from .utils.data import __all__  # noqa: F401
