"""Check the structure of a MATLAB v5/v7 ``.mat`` file before ``scipy.io.loadmat`` reads it.

SciPy's v5 reader is written in Cython and, as its documentation says, is not hardened
against damaged files: a flipped byte in a data-type code can crash the whole process
(a segmentation fault, found by our fuzz test), which no ``try`` can catch. This module
walks every data element in pure Python and raises :class:`MatStructureError` on anything
but a well-formed file, so the C reader only ever sees well-formed input.

The layout (MathWorks, "MAT-File Format", v5):

- a 128-byte header: text, 8 bytes of subsystem offset, version ``0x0100``, and ``IM``
  (little-endian) or ``MI`` (big-endian);
- then data elements, each a tag ``(type: uint32, nbytes: uint32)`` and ``nbytes`` of data,
  padded to 8 bytes. A *small* element packs ``nbytes`` (1..4) into the tag's upper 16 bits
  and its data into the tag's second word. ``miCOMPRESSED`` (15) holds a zlib stream that
  expands to one element; ``miMATRIX`` (14) holds one array:
  flags (``miUINT32`` x 2: class in the low byte, complex bit ``0x800``), dimensions
  (``miINT32`` x n, n >= 2), name (``miINT8``), then by class:
  numeric: real part (and imaginary part) with ``prod(dims)`` numbers of any numeric type;
  char: ``prod(dims)`` characters; cell: ``prod(dims)`` ``miMATRIX`` elements;
  struct: field-name length, field names, ``prod(dims) * fields`` ``miMATRIX`` elements;
  object: class name, then as struct; sparse: row indices, column starts, values.
"""
from __future__ import annotations

import struct
import zlib

# data type code -> bytes per number
NUMBER_SIZES = {1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8}
TEXT_SIZES = {16: 1, 17: 2, 18: 4}  # miUTF8, miUTF16, miUTF32
MI_INT8, MI_UINT8, MI_INT32, MI_UINT32, MI_MATRIX, MI_COMPRESSED, MI_UTF8 = 1, 2, 5, 6, 14, 15, 16
NAME_TYPES = {MI_INT8: 1, MI_UINT8: 1, MI_UTF8: 1}
CELL, STRUCT, OBJECT, CHAR, SPARSE = 1, 2, 3, 4, 5
NUMERIC_CLASSES = range(6, 16)  # double, single, int8 .. uint64
UNREAD_CLASSES = {16: "function handle", 17: "classdef object (string, datetime, table, ...)"}
COMPLEX_FLAG, LOGICAL_FLAG = 0x800, 0x200
MAX_DEPTH = 32
MAX_EXPANDED_BYTES = 1 << 30  # one compressed variable may expand to at most 1 GiB


class MatStructureError(ValueError):
    """A v5 ``.mat`` file whose structure is damaged or beyond what the reader supports."""


def _text(raw) -> str:
    """A name stored as bytes, up to its first NUL."""
    return bytes(raw).split(b"\0")[0].decode("latin-1")


class _Walker:
    """Walks data elements of ``buf`` with the file's byte order (``'<'`` or ``'>'``)."""

    def __init__(self, order: str):
        self.order = order

    def words(self, buf, at: int, count: int, fmt: str = "I") -> tuple:
        return struct.unpack_from(f"{self.order}{count}{fmt}", buf, at)

    def element(self, buf, at: int, end: int, where: str):
        """One element at ``at``: ``(type, data start, data bytes, next element)``."""
        if end - at < 8:
            raise MatStructureError(f"{where}: {end - at} bytes left at offset {at}, a tag needs 8")
        first, second = self.words(buf, at, 2)
        if first >> 16:  # small data element: bytes in the upper half, data in the second word
            kind, nbytes = first & 0xFFFF, first >> 16
            if nbytes > 4:
                raise MatStructureError(f"{where}: small element at offset {at} claims "
                                        f"{nbytes} bytes")
            return kind, at + 4, nbytes, at + 8
        stop = at + 8 + second
        if stop > end:
            raise MatStructureError(f"{where}: element at offset {at} claims {second} bytes, "
                                    f"only {end - at - 8} remain (truncated?)")
        # a compressed element is not padded to a multiple of 8 bytes
        padded = stop if first == MI_COMPRESSED else at + 8 + (second + 7) // 8 * 8
        return first, at + 8, second, min(padded, end)

    def numbers(self, buf, at: int, end: int, where: str, allowed=NUMBER_SIZES, count=None):
        """A numeric element holding ``count`` numbers (any count when None); returns
        ``(data start, number of values, type, next)``."""
        kind, start, nbytes, after = self.element(buf, at, end, where)
        if kind not in allowed:
            raise MatStructureError(f"{where}: data type {kind} at offset {at} is not allowed here")
        size = allowed[kind]
        if nbytes % size or (count is not None and nbytes // size != count):
            expected = "a whole number of" if count is None else f"{count}"
            raise MatStructureError(f"{where}: {nbytes} bytes of type {kind} at offset {at} do not "
                                    f"hold {expected} values of {size} bytes")
        return start, nbytes // size, kind, after

    def matrix(self, buf, start: int, end: int, where: str, depth: int) -> None:
        """Check the body ``buf[start:end]`` of one miMATRIX element."""
        if depth > MAX_DEPTH:
            raise MatStructureError(f"{where}: arrays nested deeper than {MAX_DEPTH}")
        if start == end:
            return  # an empty array
        at, _, _, pos = self.numbers(buf, start, end, f"{where} flags", {MI_UINT32: 4}, 2)
        flags = self.words(buf, at, 1)[0]
        array_class, is_complex = flags & 0xFF, bool(flags & COMPLEX_FLAG)
        if array_class in UNREAD_CLASSES:
            raise MatStructureError(f"{where}: a MATLAB {UNREAD_CLASSES[array_class]}, which this "
                                    f"reader does not read")
        at, n_dims, kind, pos = self.numbers(buf, pos, end, f"{where} dims",
                                             {MI_INT32: 4, MI_UINT32: 4})
        dims = self.words(buf, at, n_dims, "i" if kind == MI_INT32 else "I")
        if n_dims < 2 or min(dims) < 0:
            raise MatStructureError(f"{where}: dimensions {list(dims)} are not >= 2 sizes >= 0")
        count = 1
        for d in dims:
            count *= d
        at, length, _, pos = self.numbers(buf, pos, end, f"{where} name", NAME_TYPES)
        if depth == 0:
            where = f"variable {_text(buf[at:at + length])!r}"
        if array_class in NUMERIC_CLASSES:
            for part in ("real", "imaginary")[:1 + is_complex]:
                _, _, _, pos = self.numbers(buf, pos, end, f"{where} {part} part", count=count)
        elif array_class == CHAR:
            _, chars, kind, _ = self.numbers(buf, pos, end, f"{where} characters",
                                             {**NUMBER_SIZES, **TEXT_SIZES})
            if kind != MI_UTF8 and chars not in (0, count):  # UTF-8 alone has a variable width
                raise MatStructureError(f"{where}: {chars} characters for dimensions {list(dims)}")
        elif array_class == CELL:
            self.children(buf, pos, end, count, depth, lambda i: f"{where}{{{i}}}")
        elif array_class in (STRUCT, OBJECT):
            if array_class == OBJECT:
                _, _, _, pos = self.numbers(buf, pos, end, f"{where} class name", NAME_TYPES)
            at, _, _, pos = self.numbers(buf, pos, end, f"{where} field-name length",
                                         {MI_INT32: 4}, 1)
            name_length = self.words(buf, at, 1, "i")[0]
            at, names_bytes, _, pos = self.numbers(buf, pos, end, f"{where} field names",
                                                   NAME_TYPES)
            if name_length <= 0 or names_bytes % name_length:
                raise MatStructureError(f"{where}: {names_bytes} bytes of field names in slots of "
                                        f"{name_length}")
            fields = [_text(buf[slot:slot + name_length])
                      for slot in range(at, at + names_bytes, name_length)]
            self.children(buf, pos, end, count * len(fields), depth, lambda i: (
                f"{where}[{i // len(fields)}]" if count > 1 else where
            ) + f".{fields[i % len(fields)]}")
        elif array_class == SPARSE:
            self.sparse(buf, pos, end, dims, is_complex, bool(flags & LOGICAL_FLAG), where)
        else:
            raise MatStructureError(f"{where}: unknown array class {array_class}")

    def children(self, buf, pos: int, end: int, count: int, depth: int, label) -> None:
        """``count`` miMATRIX elements from ``pos`` (cells or struct fields); ``label(i)``
        names the i-th in errors."""
        if count > (end - pos) // 8:
            raise MatStructureError(f"{label(0)}: {count} arrays cannot fit in {end - pos} bytes")
        for index in range(count):
            label_i = label(index)
            kind, start, nbytes, pos = self.element(buf, pos, end, label_i)
            if kind != MI_MATRIX:
                raise MatStructureError(f"{label_i}: data type {kind}, not an array")
            self.matrix(buf, start, start + nbytes, label_i, depth + 1)

    def sparse(self, buf, pos: int, end: int, dims, is_complex: bool, is_logical: bool,
               where: str) -> None:
        """Row indices in ``[0, rows)``, ``cols + 1`` non-decreasing column starts from 0,
        and at least as many values as the last column start (MATLAB stores a logical sparse
        array's values as bytes under a double's type code)."""
        if len(dims) != 2:
            raise MatStructureError(f"{where}: a sparse array with dimensions {list(dims)}")
        rows, cols = dims
        at, n_rows, _, pos = self.numbers(buf, pos, end, f"{where} row indices",
                                          {MI_INT32: 4, MI_UINT32: 4})
        row_index = self.words(buf, at, n_rows, "i")
        at, _, _, pos = self.numbers(buf, pos, end, f"{where} column starts",
                                     {MI_INT32: 4, MI_UINT32: 4}, cols + 1)
        starts = self.words(buf, at, cols + 1, "i")
        if starts[0] != 0 or any(b < a for a, b in zip(starts, starts[1:])) or starts[-1] > n_rows \
                or any(not 0 <= r < rows for r in row_index[:starts[-1]]):
            raise MatStructureError(f"{where}: inconsistent sparse indices")
        for part in ("real", "imaginary")[:1 + is_complex]:
            if is_logical:
                _, _, values, pos = self.element(buf, pos, end, f"{where} {part} values")
            else:
                _, values, _, pos = self.numbers(buf, pos, end, f"{where} {part} values")
            if values < starts[-1]:
                raise MatStructureError(f"{where}: {values} values for {starts[-1]} entries")


def check_v5_structure(data: bytes) -> None:
    """Raise :class:`MatStructureError` unless ``data`` (a whole v5 file) is well formed."""
    if len(data) < 128:
        raise MatStructureError(f"{len(data)} bytes: shorter than the 128-byte header")
    order = {b"IM": "<", b"MI": ">"}.get(bytes(data[126:128]))
    if order is None:
        raise MatStructureError(f"byte-order mark {bytes(data[126:128])!r} is neither 'IM' "
                                f"nor 'MI'")
    walker, pos = _Walker(order), 128
    while pos < len(data):
        kind, start, nbytes, after = walker.element(data, pos, len(data), "file")
        if kind == MI_COMPRESSED:
            inflater = zlib.decompressobj()
            try:
                body = inflater.decompress(data[start:start + nbytes], MAX_EXPANDED_BYTES)
            except zlib.error as exc:
                raise MatStructureError(f"compressed element at offset {pos}: {exc}") from None
            if not inflater.eof or inflater.unconsumed_tail:
                raise MatStructureError(f"compressed element at offset {pos} is truncated or "
                                        f"expands "
                                        f"beyond {MAX_EXPANDED_BYTES >> 20} MiB")
            inner_kind, inner_start, inner_bytes, _ = walker.element(body, 0, len(body),
                                                                     "compressed")
            if inner_kind != MI_MATRIX:
                raise MatStructureError(f"compressed element at offset {pos} holds type "
                                        f"{inner_kind}")
            walker.matrix(body, inner_start, inner_start + inner_bytes, "variable", 0)
        elif kind == MI_MATRIX:
            walker.matrix(data, start, start + nbytes, "variable", 0)
        else:
            raise MatStructureError(f"top-level element at offset {pos} has data type {kind}, "
                                    f"not an array")
        pos = after
