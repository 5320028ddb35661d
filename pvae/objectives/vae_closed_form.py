r"""A pvae VAE's single-sample ELBO in closed form: the default ELBO's first backend for it.

For a :class:`pvae.VAE` of the parts in :data:`PARTS` (:func:`closed_form_problem` says what
else it needs), one ``Trace_ELBO`` call on a minibatch :math:`x_{1:B}` of :math:`N` rows, with
KL weight :math:`\beta`, computes

.. math:: \widehat{\mathcal L} = s \sum_{i=1}^B \log p(x_i \mid z_i)
          + s\beta \sum_{i=1}^B \bigl[\log p(z_i) - \log q(z_i \mid x_i)\bigr],
          \qquad z_i = \mu(x_i) + \sigma(x_i) \odot \varepsilon_i,

with :math:`s = N / B` and one :math:`\varepsilon_i \sim \mathcal N(0, I)` per row, drawn
after the encoder runs and before the decoder does. :class:`ClosedFormELBO` writes that sum
out in plain torch (the Normal log-densities as formulas, the Bernoulli's as a cross-entropy
with logits), calling the networks as plain torch modules (their ``PyroModule`` twins
announce every parameter read to Pyro). The same random numbers are drawn in the same order,
so value and gradient are ``Trace_ELBO``'s (``tests/objectives/test_vae_closed_form.py``).

With ``compiled=True`` a training call's loss *and gradient* are one ``torch.compile`` graph
(inductor; ``mode="reduce-overhead"``, CUDA graphs, on CUDA): ``torch.func.grad_and_value``
over the networks' trainable parameters, the support check included. :math:`\varepsilon`,
:math:`s` and :math:`s\beta` are inputs (a warm-up does not recompile); a new batch shape or
a parameter frozen or replaced compiles once more. Calls without gradients run eagerly.
"""

from __future__ import annotations

import contextlib
import inspect
import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from pyro.infer.util import is_validation_enabled, torch_item
from pyro.nn import PyroModule
from torch import Tensor, nn
from torch.func import functional_call, grad_and_value
from torch.nn.functional import binary_cross_entropy_with_logits

from .._compat import inductor_backend, module_registries, plain_twin, pyro_declarations
from ..guides import NormalGuide
from ..likelihoods import Bernoulli, all_binary, non_binary_count
from ..priors import StandardNormal
from .traced import result_of

__all__ = ["PARTS", "ClosedFormELBO", "Gradient", "add_gradients", "closed_form",
           "closed_form_problem", "compile_problem"]

#: a trainable parameter and its gradient, computed but not yet added to its ``.grad``
Gradient = tuple[Tensor, Tensor]
Weights = tuple[dict[str, Tensor], ...]  # the networks' parameters, by name
#: the parts written out here: (guide, prior, likelihood) classes, each exactly
PARTS = {"guide": (NormalGuide,), "prior": (StandardNormal,), "likelihood": (Bernoulli,)}
#: modules that draw random numbers in training mode: inside a compiled graph they would
#: draw from inductor's generator, not torch's
RANDOM_MODULES = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
                  nn.FeatureAlphaDropout, nn.RReLU)


def add_gradients(gradients: Iterable[Gradient]) -> None:
    """Add each gradient into its parameter's ``.grad``, as ``backward`` accumulates it."""
    for parameter, gradient in gradients:
        if parameter.grad is None:
            parameter.grad = gradient
        else:
            parameter.grad += gradient


def _parts(model: Any, guide: Any) -> dict[str, Any]:
    """The pair's guide, prior, likelihood and networks, read without PyroModule look-ups."""
    modules, guide_modules = module_registries(model)[2], module_registries(guide)[2]
    return {"guide": guide, "prior": modules.get("prior"), "likelihood": modules.get("likelihood"),
            "encoder": guide_modules.get("encoder"), "decoder": modules.get("decoder")}


def _network_modules(model: Any, guide: Any) -> Iterable[tuple[str, nn.Module]]:
    parts = _parts(model, guide)
    return ((role, module) for role in ("encoder", "decoder") for module in parts[role].modules())


def closed_form_problem(model: Any, guide: Any) -> str | None:
    """Why this pair's ELBO is not written out here, or None when it is.

    It needs the parts of exactly the classes of :data:`PARTS` (a subclass may change its
    distribution), and networks of plain torch modules (made Pyro-visible by pvae) without
    ``PyroSample`` or ``PyroParam`` attributes. (The model's hook refuses a model subclass.)
    """
    parts = _parts(model, guide)
    for role, kinds in PARTS.items():
        if type(parts[role]) not in kinds:
            known = ", ".join(kind.__name__ for kind in kinds)
            return f"its {role} is a {type(parts[role]).__name__}; the closed form knows {known}"
    for role, module in _network_modules(model, guide):
        if not isinstance(module, PyroModule):
            continue
        mro = type(module).__mro__  # to_pyro_module_ makes PyroModule[a torch class]
        if len(mro) < 3 or mro[2] is not PyroModule or issubclass(mro[1], PyroModule):
            return f"its {role} holds a PyroModule class of its own ({type(module).__name__})"
        if any(pyro_declarations(module)):
            return f"its {role} has PyroSample or PyroParam attributes"
    return None


#: whether this torch's ``torch.compile`` keeps a function's graphs and recompile limit its own
#: (``isolate_recompiles``, torch 2.13): without it, two pairs of the same shapes would share
#: graphs and counts, so an older torch trains on the uncompiled closed form
COMPILE_ISOLATES = "isolate_recompiles" in inspect.signature(torch.compile).parameters


def compile_problem(model: Any, guide: Any) -> str | None:
    """Why this pair's closed form is not compiled (random networks, or an older torch)."""
    for role, module in _network_modules(model, guide):
        if isinstance(module, RANDOM_MODULES):
            return (f"its {role} has a {type(module).__name__}, whose random numbers a "
                    "compiled graph would draw from another generator than Trace_ELBO's")
    if not COMPILE_ISOLATES:
        return (f"torch {torch.__version__} cannot keep a compiled graph to one pair "
                "(torch.compile's isolate_recompiles came in torch 2.13): upgrade torch to "
                "compile")
    return None


def closed_form(model: Any, guide: Any, compiled: bool) -> tuple[ClosedFormELBO | None, str]:
    """The pair's closed form (compiled if asked and possible), and why not ("" if it is)."""
    problem = closed_form_problem(model, guide)
    if problem is not None:
        return None, problem
    problem = compile_problem(model, guide) if compiled else None
    return ClosedFormELBO(model, guide, compiled=compiled and problem is None), problem or ""


class _Twin:
    """A plain torch copy of a PyroModule tree, sharing its parameter and buffer dicts.

    An optimiser step, ``load_state_dict`` or ``.to(device)`` is seen at once; :meth:`synced`
    copies every module's training flag and rebuilds the twin where a submodule was replaced.
    """

    def __init__(self, net: nn.Module) -> None:
        self.net = net
        self._build()

    def _copy(self, module: nn.Module) -> nn.Module:
        parameters, _, children = module_registries(module)
        kind = type(module).__mro__[1] if isinstance(module, PyroModule) else type(module)
        twin: nn.Module = plain_twin(module, kind, {
            name: None if child is None else self._copy(child) for name, child in children.items()})
        self.pairs.append((module, twin, children, tuple(children.values()), parameters,
                           tuple(parameters.values())))
        return twin

    def _build(self) -> None:
        #: (original, twin, its live children and parameters, and what they were)
        self.pairs: list[tuple[Any, ...]] = []
        self.module = self._copy(self.net)
        #: the parameters by their names in the twin (as ``functional_call`` takes them)
        self.named = dict(self.module.named_parameters())
        self.first = next(iter(self.named.values()), None)

    def synced(self, named: bool = False) -> nn.Module:
        """The twin; with ``named``, rebuilt too where a parameter was replaced or added."""
        for original, twin, live_children, children, live_parameters, parameters in self.pairs:
            moved = (children or live_children) and tuple(live_children.values()) != children
            # (parameters compared as objects: the old ones are kept, so their ids are theirs)
            if moved or (named and [*map(id, live_parameters.values())] != [*map(id, parameters)]):
                self._build()
                return self.synced(named)
            twin.__dict__["training"] = original.training  # (no Module.__setattr__)
        return self.module


class _GraphLoss(torch.autograd.Function):
    """The compiled graph's loss as a tensor autograd can differentiate.

    Its backward hands each parameter the graph's gradient times the upstream one, so a
    ``backward`` through it adds to ``.grad`` what :func:`add_gradients` would.
    """

    @staticmethod
    def forward(ctx: Any, loss: Tensor, grads: tuple[Tensor, ...], *parameters: Tensor) -> Tensor:
        ctx.grads = grads
        return loss.view(())

    @staticmethod
    def backward(ctx: Any, upstream: Tensor) -> Any:
        return (None, None, *(upstream * grad for grad in ctx.grads))


class _Counted:
    """Inductor as ``torch.compile``'s backend, counting the graphs it compiles."""

    def __init__(self, mode: str | None) -> None:
        self.compilations = 0
        self._inductor = inductor_backend(mode)

    def __call__(self, graph: Any, inputs: Any) -> Any:
        self.compilations += 1
        return self._inductor(graph, inputs)


class ClosedFormELBO:
    """Minus the single-sample ELBO of a pair :func:`closed_form_problem` accepts, in torch."""

    def __init__(self, model: Any, guide: Any, compiled: bool = False) -> None:
        self.model, self.guide = model, guide
        parts = _parts(model, guide)
        self.kinds = tuple(type(parts[role]) for role in PARTS)  # (guide, prior, likelihood)
        self.encoder, self.decoder = _Twin(parts["encoder"]), _Twin(parts["decoder"])
        self.compiled = compiled
        self.backend: _Counted | None = None
        self._compiled: Callable[..., Any] | None = None
        #: the graph's (s, s beta) inputs, made once per value (the graph never writes them)
        self._scale_tensors: dict[tuple[Any, ...], Tensor] = {}

    @property
    def compilations(self) -> int:
        """How many graphs ``torch.compile`` has made for this pair (0 when not compiled)."""
        return self.backend.compilations if self.backend is not None else 0

    def matches(self, model: Any, guide: Any) -> bool:
        """Whether this is still the pair it was made for, with the same parts and networks."""
        if model is not self.model or guide is not self.guide:
            return False
        parts = _parts(model, guide)
        return (parts["encoder"] is self.encoder.net and parts["decoder"] is self.decoder.net
                and tuple(type(parts[role]) for role in PARTS) == self.kinds)

    def key(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
        """What a call's exactness depends on (None: a call this form does not take)."""
        if len(args) != 1 or not isinstance(args[0], Tensor) or set(kwargs) - {"num_data"}:
            return None
        x = args[0]
        return x.shape, x.dtype, x.device, kwargs.get("num_data")

    @staticmethod
    def in_support(x: Tensor) -> bool:
        """Whether every value is 0 or 1, the Bernoulli's support (:func:`all_binary`)."""
        return x.is_floating_point() and all_binary(x)

    def scales(self, x: Tensor, num_data: int | None) -> tuple[float, float]:
        r""":math:`s` and :math:`s\beta`: the data plate's scale, and the latent sites'."""
        scale = 1.0 if num_data is None or num_data == x.shape[0] else num_data / x.shape[0]
        return scale, scale * self.model.kl_weight

    @property
    def dtype(self) -> torch.dtype:
        """The dtype of the networks' parameters (and so of the loss)."""
        first = self.encoder.first
        return first.dtype if first is not None else torch.get_default_dtype()

    def loss(self, x: Tensor, num_data: int | None = None) -> Tensor:
        """Minus the ELBO estimate of ``x`` (``Trace_ELBO``'s value, differentiable), eagerly."""
        scale, latent_scale = self.scales(x, num_data)
        encoder, decoder = self.encoder.synced(), self.decoder.synced()
        loc, scale_q = NormalGuide.loc_and_scale(encoder(x))
        noise = torch.empty_like(loc).normal_()
        return self._negative_elbo(decoder, x, loc, scale_q, noise, scale, latent_scale)

    def graph_ready(self) -> bool:
        """Whether :meth:`value_and_grads` runs the compiled graph (compiled, with gradients)."""
        return self.compiled and torch.is_grad_enabled()

    def value_and_grads(self, x: Tensor, num_data: int | None = None
                        ) -> tuple[Tensor, Tensor, list[Gradient]]:
        """The compiled loss, the count of values outside the support, and the gradients.

        One graph computes the three. The gradients, (trainable parameter, gradient) pairs, are
        not yet added to ``.grad``: the caller adds them once the loss is known to be finite.
        """
        if self._compiled is None:
            self.backend = _Counted("reduce-overhead" if x.is_cuda else None)
            # (isolated: another pair of the same shapes never hands this one its graphs, so
            # the count and the recompile limit are this pair's own)
            self._compiled = torch.compile(self._compiled_step, backend=self.backend,
                                           dynamic=False,  # (the overloads lack it)
                                           isolate_recompiles=True)  # type: ignore[call-overload]
        encoder, decoder = self.encoder.synced(named=True), self.decoder.synced(named=True)
        dtype, device = self.dtype, x.device
        noise = torch.empty((x.shape[0], self.guide.z_dim), dtype=dtype,
                            device=device).normal_()
        values = self.scales(x, num_data)
        scales = self._scale_tensors.get((values, dtype, device))
        if scales is None:  # (a handful per run: the full minibatches, the last one, warm-up)
            if len(self._scale_tensors) > 64:
                self._scale_tensors.clear()
            scales = self._scale_tensors[values, dtype, device] = torch.tensor(
                values, dtype=dtype, device=device)
        nets = (self.encoder.named, self.decoder.named)
        trainable = tuple({n: p for n, p in named.items() if p.requires_grad} for named in nets)
        frozen = tuple({n: p for n, p in named.items() if not p.requires_grad} for named in nets)
        if x.is_cuda:  # a new step of CUDA graphs: the last replay's outputs are not kept
            torch.compiler.cudagraph_mark_step_begin()
        loss, outside, grads = self._compiled(encoder, decoder, trainable, frozen, x, noise,
                                              scales)
        pairs: list[Gradient] = [(parameter, grads[net][name]) for net in (0, 1)
                                 for name, parameter in trainable[net].items()]
        if x.is_cuda:  # (a CUDA graph writes its outputs into the same memory every replay)
            loss, pairs = loss.clone(), [(parameter, grad.clone()) for parameter, grad in pairs]
        return loss, outside, pairs

    def answer(self, method: str, x: Tensor, num_data: int | None,
               retain_graph: bool | None) -> Any:
        """``Trace_ELBO``'s ``method`` of ``x`` computed here, or None where it cannot be.

        None (nothing added to the gradients) when ``x`` is outside the support, under
        validation, or the loss is not finite: ``Trace_ELBO`` then says what is wrong.
        """
        if method == "loss" or not self.graph_ready():
            if is_validation_enabled() and not self.in_support(x):  # (before any draw)
                return None
            with torch.no_grad() if method == "loss" else contextlib.nullcontext():
                loss = self.loss(x, num_data)
            if not math.isfinite(value := torch_item(loss)):
                return None
            return result_of(method, loss, retain_graph, value)
        loss, outside, gradients = self.value_and_grads(x, num_data)  # the graph's gradient
        if (outside and is_validation_enabled()) or not math.isfinite(value := torch_item(loss)):
            return None
        if method == "differentiable_loss":
            return self.differentiable(loss, gradients)
        add_gradients(gradients)
        return value

    @staticmethod
    def differentiable(loss: Tensor, gradients: list[Gradient]) -> Tensor:
        """The loss of :meth:`value_and_grads`, differentiable: its gradient is the graph's."""
        return _GraphLoss.apply(loss, tuple(grad for _, grad in gradients),
                                *(parameter for parameter, _ in gradients))

    def _compiled_step(self, encoder: nn.Module, decoder: nn.Module, trainable: Weights,
                       frozen: Weights, x: Tensor, noise: Tensor, scales: Tensor) -> Any:
        def negative_elbo(weights: Weights) -> Any:
            loc, scale_q = NormalGuide.loc_and_scale(
                functional_call(encoder, (weights[0], frozen[0]), (x,)))
            return self._negative_elbo(
                lambda z: functional_call(decoder, (weights[1], frozen[1]), (z,)), x, loc,
                scale_q, noise, scales[0], scales[1])

        grads, loss = grad_and_value(negative_elbo)(trainable)
        return loss, non_binary_count(x), grads

    def _negative_elbo(self, decoder: Callable[[Tensor], Tensor], x: Tensor, loc: Tensor,
                       scale_q: Tensor, noise: Tensor, scale: Any, latent_scale: Any) -> Tensor:
        z = loc + noise * scale_q
        # log p(z) - log q(z | x), each as torch's Normal.log_prob, summed: their log sqrt(2 pi)
        # cancel, and (z - loc) / scale is the noise itself (in value and in gradient)
        latent = (0.5 * (noise**2 - z**2) + scale_q.log()).sum()
        cross_entropy = binary_cross_entropy_with_logits(decoder(z), x, reduction="sum")
        return scale * cross_entropy - latent_scale * latent
