"""The geometry of a sliding window: kernel size, stride, padding and dilation."""
from __future__ import annotations

from typing import NamedTuple


def pair(value, name: str = "argument") -> tuple[int, int]:
    """``3 -> (3, 3)``; ``(3, 5) -> (3, 5)``; anything else is a ``ValueError``."""
    if isinstance(value, int):
        return (value, value)
    if (isinstance(value, (tuple, list)) and len(value) == 2
            and all(isinstance(v, int) for v in value)):
        return (value[0], value[1])
    raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")


class Window(NamedTuple):
    """Kernel ``(kh, kw)``, stride ``(sh, sw)``, padding ``(ph, pw)``, dilation ``(dh, dw)``."""

    kh: int
    kw: int
    sh: int = 1
    sw: int = 1
    ph: int = 0
    pw: int = 0
    dh: int = 1
    dw: int = 1

    @classmethod
    def of(cls, kernel_size, stride=1, padding=0, dilation=1) -> Window:
        """Build from int-or-pair arguments, as the layers take them."""
        return cls(*pair(kernel_size, "kernel_size"), *pair(stride, "stride"),
                   *pair(padding, "padding"), *pair(dilation, "dilation"))

    def out_shape(self, h: int, w: int) -> tuple[int, int]:
        """``OH = (H + 2*ph - dh*(kh-1) - 1) // sh + 1``, and the same for ``OW``."""
        oh = (h + 2 * self.ph - self.dh * (self.kh - 1) - 1) // self.sh + 1
        ow = (w + 2 * self.pw - self.dw * (self.kw - 1) - 1) // self.sw + 1
        return oh, ow
