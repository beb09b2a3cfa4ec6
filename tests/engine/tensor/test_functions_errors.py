"""Bad input to the tensor functions gets torch's error type, with a message that names the
op and the shapes (or the allowed range), before any work starts. Each call is written once
for both libraries; the oracle test checks that torch raises the same type."""
import numpy as np
import pytest

import minicnn


def z(lib, *shape, dtype=None):
    return lib.zeros(*shape) if dtype is None else lib.zeros(*shape, dtype=getattr(lib, dtype))


def ints(lib, values):
    return lib.tensor(values)


SHAPE = [
    ("cat shapes", lambda lib: lib.cat([z(lib, 2, 3), z(lib, 2, 4)]), RuntimeError,
     r"cat\(\).*\(2, 3\) for tensor 0 and \(2, 4\) for tensor 1"),
    ("cat ranks", lambda lib: lib.cat([z(lib, 2, 3), z(lib, 3)]), RuntimeError,
     r"cat\(\).*number of dimensions.*\(2, 3\).*\(3,\)"),
    ("cat dim", lambda lib: lib.cat([z(lib, 2, 3)], 2), IndexError,
     r"cat\(\): dimension out of range.*\[-2, 1\], but got 2.*\(2, 3\)"),
    ("cat empty", lambda lib: lib.cat([]), ValueError, r"cat\(\).*non-empty"),
    ("cat not tensors", lambda lib: lib.cat(z(lib, 2)), TypeError, r"cat\(\)"),
    ("stack shapes", lambda lib: lib.stack([z(lib, 2, 3), z(lib, 2, 4)]), RuntimeError,
     r"stack\(\).*\(2, 3\) at entry 0 and \(2, 4\) at entry 1"),
    ("split sizes", lambda lib: lib.split(z(lib, 5), [2, 2]), RuntimeError,
     r"split\(\).*\[2, 2\].*sum exactly to 5.*\(5,\)"),
    ("split zero", lambda lib: lib.split(z(lib, 5), 0), RuntimeError, r"split\(\).*\(5,\)"),
    ("split dim", lambda lib: lib.split(z(lib, 5), 2, dim=3), IndexError,
     r"split\(\): dimension out of range"),
    ("chunk zero", lambda lib: lib.chunk(z(lib, 5), 0), RuntimeError,
     r"chunk\(\).*greater than 0.*\(5,\)"),
    ("flip repeated dim", lambda lib: lib.flip(z(lib, 2, 3), (0, 0)), RuntimeError,
     r"flip\(\): dim 0 appears multiple times.*\(2, 3\)"),
    ("flip dim", lambda lib: lib.flip(z(lib, 2, 3), (2,)), IndexError, r"flip\(\).*\(2, 3\)"),
    ("repeat too few", lambda lib: z(lib, 2, 3).repeat(2), RuntimeError,
     r"repeat\(\).*\(2, 3\)"),
    ("expand mismatch", lambda lib: z(lib, 2, 3).expand(2, 4), RuntimeError,
     r"expand\(\).*size 4.*existing size 3.*dimension 1.*\(2, 3\)"),
    ("expand too few", lambda lib: z(lib, 2, 3).expand(3), RuntimeError, r"expand\(\).*\(2, 3\)"),
    ("expand -1 in front", lambda lib: z(lib, 2, 3).expand(-1, 2, 3), RuntimeError,
     r"expand\(\).*leading"),
    ("masked_fill mask dtype", lambda lib: z(lib, 3).masked_fill(ints(lib, [1, 0, 1]), 1.0),
     RuntimeError, r"masked_fill\(\).*boolean.*int64"),
    ("masked_fill shapes", lambda lib: z(lib, 3).masked_fill(z(lib, 4, dtype="bool"), 1.0),
     RuntimeError, r"masked_fill\(\).*\(3,\).*\(4,\)"),
    ("masked_fill value rank", lambda lib: z(lib, 3).masked_fill(z(lib, 3, dtype="bool"),
                                                                 z(lib, 2)),
     RuntimeError, r"masked_fill\(\).*0-dimensional.*\(2,\)"),
    ("where condition dtype", lambda lib: lib.where(z(lib, 3), z(lib, 3), z(lib, 3)),
     RuntimeError, r"where\(\).*boolean.*float32"),
    ("where shapes", lambda lib: lib.where(z(lib, 3) > 0, z(lib, 2), z(lib, 3)), RuntimeError,
     r"where\(\).*\(3,\).*\(2,\)"),
    ("gather out of range", lambda lib: z(lib, 3).gather(0, ints(lib, [5])), RuntimeError,
     r"gather\(\): index 5 is out of bounds for dimension 0 with size 3"),
    ("gather negative", lambda lib: z(lib, 3).gather(0, ints(lib, [-1])), RuntimeError,
     r"gather\(\): index -1 is out of bounds"),
    ("gather rank", lambda lib: z(lib, 2, 3).gather(0, ints(lib, [1])), RuntimeError,
     r"gather\(\).*\(1,\).*\(2, 3\)"),
    ("gather larger index", lambda lib: z(lib, 2, 3).gather(0, ints(lib, [[1] * 5])),
     RuntimeError, r"gather\(\).*\(1, 5\).*\(2, 3\)"),
    ("gather index dtype", lambda lib: z(lib, 3).gather(0, z(lib, 1)), RuntimeError,
     r"gather\(\).*int64.*float32"),
    ("index_select out of range", lambda lib: z(lib, 3).index_select(0, ints(lib, [5])),
     IndexError, r"index_select\(\): index out of range.*size 3.*\(3,\)"),
    ("index_select rank", lambda lib: z(lib, 3).index_select(0, ints(lib, [[1]])), IndexError,
     r"index_select\(\).*vector.*\(1, 1\)"),
    ("index_select dtype", lambda lib: z(lib, 3).index_select(0, z(lib, 1)), RuntimeError,
     r"index_select\(\).*int64 or int32"),
]
ELEMENTWISE = [
    ("clamp no bounds", lambda lib: lib.clamp(z(lib, 3)), RuntimeError,
     r"clamp\(\): at least one of 'min' or 'max'.*\(3,\)"),
    ("clamp shapes", lambda lib: lib.clamp(z(lib, 3), min=z(lib, 4)), RuntimeError,
     r"clamp\(\).*\(3,\).*\(4,\)"),
    ("maximum number", lambda lib: lib.maximum(z(lib, 3), 1.0), TypeError,
     r"maximum\(\).*'other'.*float"),
    ("maximum shapes", lambda lib: lib.maximum(z(lib, 3), z(lib, 2)), RuntimeError,
     r"maximum\(\).*\(3,\).*\(2,\)"),
    ("pow shapes", lambda lib: lib.pow(z(lib, 3), z(lib, 2)), RuntimeError,
     r"pow\(\).*\(3,\).*\(2,\)"),
    ("log1p not a tensor", lambda lib: lib.log1p([1.0]), TypeError, r"log1p\(\)"),
]
REDUCTIONS = [
    ("norm of ints", lambda lib: lib.norm(z(lib, 3, dtype="int64")), RuntimeError,
     r"norm\(\).*floating point.*int64.*\(3,\)"),
    ("norm dim", lambda lib: lib.norm(z(lib, 3), 3, 5), IndexError,
     r"norm\(\): dimension out of range.*got 5.*\(3,\)"),
    ("var of ints", lambda lib: lib.var(z(lib, 3, dtype="int64")), RuntimeError,
     r"var\(\).*floating point.*int64"),
    ("std dim", lambda lib: z(lib, 2, 3).std(2), IndexError, r"std\(\).*\[-2, 1\].*\(2, 3\)"),
    ("cumsum dim", lambda lib: lib.cumsum(z(lib, 3), 1), IndexError,
     r"cumsum\(\).*\[-1, 0\], but got 1"),
    ("prod dim", lambda lib: lib.prod(z(lib, 2, 3), 2), IndexError, r"prod\(\).*\(2, 3\)"),
    ("sort dim", lambda lib: lib.sort(z(lib, 3), 1), IndexError, r"sort\(\).*\(3,\)"),
    ("topk k", lambda lib: lib.topk(z(lib, 3), 4), RuntimeError,
     r"topk\(\).*k=4 out of range.*size 3.*\(3,\)"),
    ("mm vector", lambda lib: lib.mm(z(lib, 3), z(lib, 3)), RuntimeError,
     r"mm\(\).*matri.*\(3,\)"),
    ("mm shapes", lambda lib: lib.mm(z(lib, 2, 3), z(lib, 4, 5)), RuntimeError,
     r"mm\(\): mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"),
    ("mm dtypes", lambda lib: lib.mm(z(lib, 2, 3), z(lib, 3, 2, dtype="float64")), RuntimeError,
     r"mm\(\).*same dtype.*float32.*float64"),
    ("bmm rank", lambda lib: lib.bmm(z(lib, 2, 3), z(lib, 2, 3, 5)), RuntimeError,
     r"bmm\(\).*3-d.*\(2, 3\)"),
    ("bmm shapes", lambda lib: lib.bmm(z(lib, 2, 2, 3), z(lib, 2, 4, 5)), RuntimeError,
     r"bmm\(\).*\[2, 3\].*\(2, 2, 3\).*\(2, 4, 5\)"),
]
FACTORIES = [
    ("randn_like of ints", lambda lib: lib.randn_like(z(lib, 3, dtype="int64")),
     NotImplementedError, r"randn_like\(\).*int64"),
    ("rand_like of ints", lambda lib: lib.rand_like(z(lib, 3, dtype="int64")),
     NotImplementedError, r"rand_like\(\).*int64"),
    ("randint empty range", lambda lib: lib.randint(3, 3, (3,)), RuntimeError,
     r"randint\(\).*low=3 >= high=3"),
    ("linspace negative steps", lambda lib: lib.linspace(0, 1, -1), RuntimeError,
     r"linspace\(\).*non-negative.*-1"),
    ("randint ints requiring grad", lambda lib: lib.randint(3, (2,), requires_grad=True),
     RuntimeError, r"floating"),
]
ALL = {"shape": SHAPE, "elementwise": ELEMENTWISE, "reductions": REDUCTIONS,
       "factories": FACTORIES}
CASES = [(family, *case) for family, cases in ALL.items() for case in cases]


@pytest.mark.parametrize("family,name,call,error,message", CASES,
                         ids=[f"{c[0]}: {c[1]}" for c in CASES])
def test_bad_input_gets_a_named_error(family, name, call, error, message):
    with pytest.raises(error, match=message):
        call(minicnn)


@pytest.mark.oracle
@pytest.mark.parametrize("family,name,call,error,message", CASES,
                         ids=[f"{c[0]}: {c[1]}" for c in CASES])
def test_torch_raises_the_same_type(family, name, call, error, message):
    torch = pytest.importorskip("torch")
    with pytest.raises(error):
        call(torch)


def test_a_failed_call_records_nothing():
    x = minicnn.zeros(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError):
        minicnn.cat([x, minicnn.zeros(2, 4)])
    assert x.grad is None and x.grad_fn is None
    np.testing.assert_array_equal(x.detach().numpy(), np.zeros((2, 3)))
