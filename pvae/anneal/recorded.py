r"""AIS's tempered potential recorded once as a graph of tensor operations, then replayed.

An HMC transition of AIS evaluates the potential

.. math:: U_\beta(u) = -\big[(1 - \beta) \log p_0(u) + \beta \log p(x, u)\big]

and its gradient ``leapfrog + 1`` times, and a run makes thousands of transitions. Each
evaluation runs the model's Python, Pyro's handlers and the distributions' constructors,
which on a small model cost more than the arithmetic. Between evaluations only :math:`u`
and :math:`\beta` change, so the arithmetic is recorded once (``torch.fx``'s ``make_fx``
on fake tensors: the tensor operations of the forward *and* backward pass, and nothing
else) and replayed with the new :math:`u`, :math:`1 - \beta` and :math:`\beta`.

Replaying is exact only if the operations do not depend on the values, so a recording is
refused, and AIS runs eagerly, saying why (a :class:`RecordingWarning`), when

- the program reads a value it computes (a branch on a latent, ``.item()``,
  ``float(tensor)``): fake tensors have no values, so such a read stops the recording;
- an operation draws random numbers, writes into a tensor in place, or has a shape that
  depends on the values (``nonzero``, boolean indexing);
- the replay at the chains' start differs from the eager run by more than rounding
  (:data:`AGREEMENT` ulps of the largest value; in practice they agree to the bit, since
  the same kernels run on the same numbers).

The check is pvae's one mechanism for a fast path, :class:`~pvae.checked.CheckedPath`: the
replay answers only for chains of the layout it was checked on (shape, dtype, device), and a
refusal is a :class:`RecordingWarning`, a :class:`~pvae.checked.FastPathWarning`.

Operations whose inputs are all fixed — the prior's constants, the data's terms, tensors
made from a shape alone (``zeros_like``) — are computed once when recording.
"""

from __future__ import annotations

import operator
import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch.fx import GraphModule, Node
from torch.fx.experimental.proxy_tensor import make_fx

from .._compat import op_schema
from ..checked import CheckedPath, FastPathWarning, close_tensors, random_state
from .potential import energy_and_gradient

__all__ = ["AGREEMENT", "RECORD_FROM", "RecordedPotential", "RecordingWarning",
           "worth_recording"]

#: record only runs with at least this many potential evaluations: recording costs about as
#: much as a few hundred eager evaluations (about 2 s for the first in a process)
RECORD_FROM = 2000
#: the replay must agree with the eager run to this many ulps of the largest value
AGREEMENT = 1000

#: operations that read only their input's shape, dtype and device, fixed in a recording
_SHAPE_ONLY = frozenset({"aten.zeros_like.default", "aten.ones_like.default",
                         "aten.full_like.default", "aten.new_zeros.default",
                         "aten.new_ones.default", "aten.new_full.default"})
#: what makes an operation's replay depend on more than its inputs' values
_REFUSED_TAGS = {torch.Tag.nondeterministic_seeded: "draws random numbers",
                 torch.Tag.dynamic_output_shape: "has a shape that depends on the values",
                 torch.Tag.data_dependent_output: "returns a value to Python"}


class RecordingWarning(FastPathWarning):
    """AIS could not record the model's potential and runs it eagerly; the message says why."""


Ends = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
#: what the potential returns, by name, for messages
_PARTS = ("energy", "gradient", "log p(x, z)", "log p_0(z)")
_close = close_tensors(AGREEMENT)


def _key(z: torch.Tensor) -> tuple[Any, ...]:
    """What a recording's exactness depends on besides the program: the chains' layout."""
    return tuple(z.shape), z.dtype, z.device


class RecordedPotential:
    """The potential of ``ends`` at chains shaped like ``z``, replayed from one recording.

    Build it with :meth:`record`, which returns ``None`` (and warns why) where a replay
    could not be trusted. Call it as :func:`~pvae.anneal.energy_and_gradient` without
    ``ends``: chains of another shape, dtype or device than the recording's are evaluated
    eagerly (the recording answers only where :class:`~pvae.checked.CheckedPath` checked it).
    """

    def __init__(self, graph: GraphModule, ends: Ends, path: CheckedPath) -> None:
        self.graph, self.ends, self.path = graph, ends, path

    def __call__(self, z: torch.Tensor, cold: torch.Tensor,
                 hot: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """:func:`~pvae.anneal.energy_and_gradient` at ``z``: replayed where checked."""
        if not self.path.knows(_key(z)):
            return energy_and_gradient(self.ends, z, cold, hot)
        return self.replay(z, cold, hot)

    def replay(self, z: torch.Tensor, cold: torch.Tensor,
               hot: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The recording run on ``z``, unchecked."""
        with torch.no_grad():  # the gradient is in the graph; the parameters need none
            return tuple(self.graph(z.detach(), cold, hot))

    @classmethod
    def record(cls, ends: Ends, z: torch.Tensor, what: str) -> RecordedPotential | None:
        """Record at ``z``; check the replay against the eager run there (``what`` names it)."""
        z = z.detach()
        cold, hot = z.new_tensor(0.5), z.new_tensor(0.5)
        path = CheckedPath(f"{what}: AIS's recorded potential", RecordingWarning,
                           reference="the eager run", agree=_agreement)

        def potential(u: torch.Tensor, c: torch.Tensor, h: torch.Tensor) -> Any:
            return energy_and_gradient(ends, u, c, h)

        try:
            with warnings.catch_warnings():  # torch's notes on tracing, not the user's to act on
                warnings.simplefilter("ignore")
                graph = make_fx(potential, tracing_mode="fake",
                                _allow_non_fake_inputs=True)(z, cold, hot)
        except Exception as error:  # noqa: BLE001 - anything it cannot record runs eagerly
            return _refused(path, f"it reads a value it computes or cannot run on shapes alone "
                                  f"({_first_line(error)})")
        problem = _replay_problem(graph)
        if problem is not None:
            return _refused(path, problem)
        _fold_constants(graph)
        recorded = cls(graph, ends, path)
        start = random_state()
        eager = potential(z, cold, hot)
        if path.check(_key(z), eager, lambda: recorded.replay(z, cold, hot), z.dtype,
                      start=start) == "refused":
            return None
        return recorded


def _refused(path: CheckedPath, why: str) -> RecordedPotential | None:
    """Refuse the recording, saying why; no recording (``None``)."""
    path.refuse(f"cannot be trusted, so AIS runs the potential eagerly: {why}", stacklevel=4)
    return None


def _agreement(eager: tuple[torch.Tensor, ...], replayed: tuple[torch.Tensor, ...],
               dtype: torch.dtype) -> str | None:
    """How the replay differs from the eager run beyond rounding, naming the part; or None."""
    for name, want, got in zip(_PARTS, eager, replayed, strict=True):
        if got.dtype != want.dtype:
            return f"disagrees: its {name} is {got.dtype}, not {want.dtype}"
        problem = _close(want, got, want.dtype)
        if problem is not None:
            return f"disagrees: its {name} " + problem.replace("{reference}", "{reference}'s")
    return None


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0] if lines else ''}"[:300]


def _replay_problem(graph: GraphModule) -> str | None:
    """Why replaying ``graph`` could differ from running the program again, if it could."""
    for node in graph.graph.nodes:
        if node.op != "call_function":
            continue
        if node.target is operator.getitem:  # one tensor of an operation's several
            continue
        schema = op_schema(node.target)
        if schema is None:
            return f"it computes with Python numbers taken from tensors ({node.target})"
        if schema.is_mutable:
            written = _written(node)
            if not written or any(_root(arg).op != "call_function" for arg in written):
                return (f"it writes in place into its input or a tensor it closes over "
                        f"({node.target})")
        for tag, why in _REFUSED_TAGS.items():
            if tag in node.target.tags:
                return f"an operation {why} ({node.target})"
        value = node.meta.get("val")
        if isinstance(value, torch.Tensor) and not all(isinstance(s, int) for s in value.shape):
            return f"an operation has a shape that depends on the values ({node.target})"
    return None


def _written(node: Node) -> list[Node]:
    """The tensors an in-place operation writes into (its arguments marked as written)."""
    written = []
    for index, argument in enumerate(op_schema(node.target).arguments):
        if argument.alias_info is not None and argument.alias_info.is_write:
            value = (node.args[index] if index < len(node.args)
                     else node.kwargs.get(argument.name))
            if isinstance(value, Node):
                written.append(value)
    return written


def _root(node: Node) -> Node:
    """The node that made the memory ``node`` points into (through views and in-place ops)."""
    while node.op == "call_function":
        schema = op_schema(node.target)
        if (schema is None or not schema.returns or not schema.returns[0].alias_info
                or not isinstance(node.args[0], Node)):
            break
        node = node.args[0]
    return node


def _fold_constants(graph: GraphModule) -> None:
    """Compute once every operation whose inputs are all fixed; keep what the rest needs.

    A tensor written in place (a fresh one: :func:`_replay_problem` refuses the rest) is
    never fixed, nor anything computed from it, since each replay writes into it anew.
    """
    written = {_root(arg) for node in graph.graph.nodes if node.op == "call_function"
               and node.target is not operator.getitem and op_schema(node.target).is_mutable
               for arg in _written(node)}
    fixed: dict[Node, Any] = {}
    for node in graph.graph.nodes:
        if node in written:
            continue
        if node.op == "get_attr":
            fixed[node] = getattr(graph, node.target)
        elif node.op == "call_function" and str(node.target) in _SHAPE_ONLY:
            first, *rest = node.all_input_nodes
            # a fake tensor: the shape, dtype and device it reads (torch 2.6 records
            # none for some inputs; those operations are then left to each replay)
            like = first.meta.get("val", fixed.get(first))
            if like is not None and all(arg in fixed for arg in rest):
                source = torch.empty_strided(like.shape, like.stride(), dtype=like.dtype,
                                             device=like.device)
                args, kwargs = torch.fx.node.map_arg((node.args[1:], node.kwargs),
                                                     fixed.__getitem__)
                fixed[node] = node.target(source, *args, **kwargs)
        elif node.op == "call_function" and all(arg in fixed for arg in node.all_input_nodes):
            args, kwargs = torch.fx.node.map_arg((node.args, node.kwargs), fixed.__getitem__)
            fixed[node] = node.target(*args, **kwargs)
    for count, (node, value) in enumerate(fixed.items()):
        if node.op == "get_attr" or not isinstance(value, torch.Tensor):
            continue
        if any(user not in fixed for user in node.users):
            name = f"_fixed_{count}"
            graph.register_buffer(name, value)
            with graph.graph.inserting_before(node):
                node.replace_all_uses_with(graph.graph.get_attr(name))
    for node in list(graph.graph.nodes):
        if node.op == "call_function" and str(node.target) == "aten.alias.default":
            node.replace_all_uses_with(node.args[0])
            graph.graph.erase_node(node)
    graph.graph.eliminate_dead_code()
    graph.recompile()


def worth_recording(moves: int, leapfrog: int) -> bool:
    """Whether a run of ``moves`` transitions evaluates the potential often enough."""
    return moves * (leapfrog + 1) >= RECORD_FROM
