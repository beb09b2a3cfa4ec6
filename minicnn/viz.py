"""See the tape that ``backward()`` walks: :func:`make_dot` draws it, :func:`print_tape` lists it.

``make_dot(loss, params=dict(model.named_parameters()))`` takes torchviz's arguments and
returns a ``graphviz.Digraph`` (the ``graphviz`` Python package; turning it into a picture
with ``.render(...)`` needs Graphviz's ``dot`` program: ``apt-get install graphviz``,
``brew install graphviz`` or graphviz.org). It has

- one grey box per tape node, named as torch names ``grad_fn`` (``Conv2dBackward``), with the
  shape and dtype of the op's output and the layer that recorded it (``fc.0 (Linear)``: its
  name, found through the parameters in ``params``, and its class);
- one blue box per leaf tensor that requires grad, headed by its name in ``params``;
- a green box for ``output`` itself;
- with ``show_saved=True``, one orange box per array the op saved for backward (its shape
  and dtype, or ``freed`` once a backward without ``retain_graph`` has released it).

Edges point the way ``backward`` walks: from the output to the op that made it, and from
each op to the ops and leaves that made its inputs (torchviz draws them the other way,
from inputs to the op).

A BatchNorm2d -> ReLU -> MaxPool2d run inside ``nn.Sequential`` is one op on the tape
(``BatchNormReLUMaxPoolBackward``, ``minicnn/nn/fusion.py``); a Linear layer is
``PermuteBackward`` (the weight's transpose), ``MatMulBackward`` and ``AddBackward`` (the
bias); cross-entropy is ``LogSoftmaxBackward`` and the indexing, sum and division after it.
"""
from __future__ import annotations

import sys

from .autograd import Node, _topological_order, op_name
from .tensor import Tensor


def _meta(shape, dtype) -> str:
    """``(2, 3) float32``: the shape and the dtype's short name (NumPy or minicnn dtype)."""
    return f"{tuple(shape)} {getattr(dtype, 'name', dtype)}"


def _node_name(node: Node) -> str:
    return op_name(node.function) + "Backward"


def _node_meta(node: Node) -> str:
    """The output's shape and dtype (``?`` for a Node recorded without them)."""
    return "?" if node.output is None else _meta(*node.output)


def _module_label(module, names: dict) -> str:
    """``'fc.0 (Linear)'`` for the module that recorded a node: its path, read off a
    parameter of it named in ``names`` (``'fc.0.weight'`` minus its own ``'weight'``), and
    its class; only the class where none of its parameters is named; '' for no module."""
    if module is None:
        return ""
    for relative, param in module.named_parameters():
        full = names.get(id(param))
        if full is not None and full.endswith(relative):
            path = full[:-len(relative)].rstrip(".")
            return f"{path} ({type(module).__name__})" if path else type(module).__name__
    return type(module).__name__


def _node_label(node: Node, names: dict) -> str:
    module = _module_label(node.module, names)
    return f"{_node_name(node)}\n{_node_meta(node)}" + (f"\nin {module}" if module else "")


def _tape(output: Tensor) -> list:
    """The Nodes and leaf tensors of ``output``'s tape, each before the ones that made it."""
    if not isinstance(output, Tensor):
        raise TypeError(f"minicnn.viz: expected a Tensor, got {type(output).__name__}")
    return _topological_order(output.grad_fn or output)


def _names(params) -> dict:
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise TypeError("minicnn.viz: params must be a dict of name -> Tensor "
                        f"(dict(model.named_parameters())), got {type(params).__name__}")
    return {id(t): name for name, t in params.items()}


def _saved(node: Node):
    """The arrays ``node`` saved for backward, or None once they are freed."""
    saved = node.ctx._saved
    return None if saved is None else [a for a in saved if hasattr(a, "shape")]


def make_dot(output: Tensor, params: dict | None = None, show_saved: bool = False):
    """The tape of ``output`` as a ``graphviz.Digraph`` (module docstring)."""
    try:
        import graphviz
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("minicnn.viz.make_dot needs the graphviz package: "
                          "pip install graphviz") from exc
    names = _names(params)
    dot = graphviz.Digraph(node_attr=dict(style="filled", shape="box", align="left",
                                          fontsize="10", ranksep="0.1", height="0.2",
                                          fontname="monospace"),
                           graph_attr=dict(size="12,12"))
    dot.node(f"out{id(output)}", f"output\n{_meta(output.shape, output.dtype)}",
             fillcolor="darkolivegreen1")
    items = _tape(output)
    if output.grad_fn is not None:
        dot.edge(f"out{id(output)}", str(id(items[0])))
    for item in items:
        key = str(id(item))
        if isinstance(item, Tensor):
            if item is output:
                continue
            name = names.get(id(item))
            label = _meta(item.shape, item.dtype) if name is None else \
                f"{name}\n{_meta(item.shape, item.dtype)}"
            dot.node(key, label, fillcolor="lightblue")
            continue
        dot.node(key, _node_label(item, names), fillcolor="lightgrey")
        for parent in item.parents:
            if parent is not None:
                dot.edge(key, str(id(parent)))
        if show_saved:
            saved = _saved(item)
            if saved is None:
                dot.node(key + "s", "saved: freed", fillcolor="orange")
                dot.edge(key, key + "s", style="dashed", dir="none")
            for k, array in enumerate(saved or []):
                dot.node(f"{key}s{k}", f"saved {k}\n{_meta(array.shape, array.dtype)}",
                         fillcolor="orange")
                dot.edge(key, f"{key}s{k}", style="dashed", dir="none")
    return dot


def print_tape(output: Tensor, params: dict | None = None, file=None) -> None:
    """Print the tape of ``output``, one line per node in the order backward visits them::

        #0 DivBackward         ()  float32       <- #1 #7
        #9 conv.weight         (4, 1, 3, 3) float32  leaf

    ``#k`` numbers the nodes, ``<-`` lists the nodes that made each one's inputs."""
    names = _names(params)
    items = _tape(output)
    number = {id(item): k for k, item in enumerate(items)}
    rows = []
    for k, item in enumerate(items):
        if isinstance(item, Tensor):
            rows.append((f"#{k}", names.get(id(item), "(leaf)"), _meta(item.shape, item.dtype),
                         "leaf"))
        else:
            inputs = " ".join(f"#{number[id(p)]}" for p in item.parents if p is not None)
            module = _module_label(item.module, names)
            rows.append((f"#{k}", _node_name(item), _node_meta(item),
                         f"<- {inputs}" + (f"  in {module}" if module else "")))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    out = file or sys.stdout
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[3], file=out)
