"""The v5 structure check accepts what MATLAB and scipy write and rejects damaged layouts
with the place named."""
import io

import numpy as np
import pytest
import scipy.io

from experiments.scans.mat5_structure import MatStructureError, check_v5_structure


def saved(compress: bool = False, **variables) -> bytes:
    buffer = io.BytesIO()
    scipy.io.savemat(buffer, variables, do_compression=compress)
    return buffer.getvalue()


@pytest.mark.parametrize("compress", [False, True])
def test_every_kind_of_array_scipy_writes_passes(compress):
    import scipy.sparse
    data = saved(compress, numbers=np.arange(12.0).reshape(3, 4), small=np.uint8(7),
                 complex_=np.array([1 + 2j, 3 - 1j]), text="knee", empty=np.zeros((0, 3)),
                 cells=np.array([np.arange(3), "a"], dtype=object),
                 record={"a": 1.0, "b": {"c": "deep"}},
                 sparse=scipy.sparse.csc_matrix(np.eye(4)), logical=np.array([True, False]))
    check_v5_structure(data)
    assert scipy.io.loadmat(io.BytesIO(data))["record"]["b"][0, 0]["c"][0, 0][0] == "deep"


def test_dimensions_that_do_not_match_the_data_are_named():
    data = bytearray(saved(V=np.zeros((4, 5))))
    dims_at = 128 + 8 + 16 + 8  # variable tag, flags element, dims tag
    assert np.frombuffer(bytes(data[dims_at:dims_at + 8]), "<i4").tolist() == [4, 5]
    data[dims_at:dims_at + 4] = np.int32(6).tobytes()
    with pytest.raises(MatStructureError,
                       match=r"variable 'V' real part: 160 bytes of type 9 .* 30 values"):
        check_v5_structure(bytes(data))


@pytest.mark.parametrize("cut", [130, 200, -3])
def test_a_truncated_file_is_named_truncated(cut):
    data = saved(V=np.ones((8, 8)))
    with pytest.raises(MatStructureError, match="truncated|bytes left"):
        check_v5_structure(data[:cut])


def test_a_huge_struct_claimed_by_its_dimensions_is_refused_before_any_work():
    data = bytearray(saved(s={"a": 1.0}))
    dims_at = 128 + 8 + 16 + 8
    data[dims_at:dims_at + 8] = np.array([2 ** 30, 2 ** 30], "<i4").tobytes()
    with pytest.raises(MatStructureError, match="cannot fit"):
        check_v5_structure(bytes(data))


def test_a_stream_that_is_not_zlib_is_refused():
    data = bytearray(saved(True, V=np.ones((8, 8))))
    data[140:150] = b"\xff" * 10
    with pytest.raises(MatStructureError, match="compressed element at offset 128"):
        check_v5_structure(bytes(data))
