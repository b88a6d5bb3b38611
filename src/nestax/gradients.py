"""Gradients through a simulation: a network as a differentiable JAX function (docs/gradients.md).

    sim = nx.Simulator(dt=0.1, differentiable=True, surrogate="fast_sigmoid")
    ... create, connect, recorders as usual ...
    f = sim.as_function(200., params={"I_e": (pop, "I_e"), "w": (pg, pop), "rate": (pg, "rate")})
    out = f(f.init)                   # Outputs: out.rate(sr), out.spikes(sr), out.trace(mm, "V_m")
    g = jax.grad(lambda v: ((f(v).rate(sr) - 10.) ** 2).mean())(f.init)

``params`` names what to differentiate: ``(nodes, "parameter")`` for a numeric parameter of neurons or
devices of one ``create`` call (one value per node, in NEST's unit), ``(pre, post)`` for the weights
of the static connections from ``pre`` to ``post`` (one per connection, in creation order;
``f.connections(name)`` lists their sources and targets). The run starts from the network's initial
state at t = 0 and does not change the Simulator.
"""
from __future__ import annotations

import numpy as np

from .engine.differentiable import POISSON_MODES, DifferentiableError, Outputs, build
from .errors import BadParameterError
from .units import to_nest

__all__ = ["as_function", "SimFunction", "Outputs", "DifferentiableError", "POISSON_MODES"]


class SimFunction:
    """A network run as a function of the values of chosen parameters (see :func:`as_function`).

    Call it with a dict name -> array (``f.init`` has the network's current values, as JAX arrays in
    NEST's units) and optionally ``key=`` (a jax PRNG key for the Poisson inputs; default: from the
    Simulator's seed). Pure: ``jax.jit``, ``jax.grad``, ``jax.vmap`` apply."""

    def __init__(self, run, init, handles, projs, sim, duration, poisson, connection_gradients=True):
        self._run, self.init, self._handles, self._projs = run, init, handles, projs
        self.duration, self.poisson, self.threshold = duration, poisson, sim.surrogate
        self.connection_gradients = connection_gradients
        self._net = sim._net

    def __call__(self, values, key=None) -> Outputs:
        return self._run(values, key)

    def __repr__(self):
        return (f"SimFunction({self.duration} ms, params={list(self._handles)}, {self.threshold!r}, "
                f"poisson={self.poisson!r}, connection_gradients={self.connection_gradients})")

    @property
    def names(self) -> tuple:
        return tuple(self._handles)

    def connections(self, name) -> dict:
        """The connections behind a weight parameter: {'sources', 'targets'} global ids, in the order of
        the parameter's vector."""
        spec = self._handles[name][0]
        if spec[0] != "weight":
            raise BadParameterError(f"{name!r} is a parameter of nodes, not the weights of connections.")
        n = len(self._handles[name][1])
        src, tgt = np.zeros(n, np.int64), np.zeros(n, np.int64)
        for j, where, sel in spec[1]:
            pr = self._projs[j]
            c, pos = self._net.conns[pr.conn], pr.pos[where]
            src[sel], tgt[sel] = c.src[pos], c.tgt[pos]
        return {"sources": src, "targets": tgt}


def as_function(sim, duration, params=None, poisson: str = "straight_through",
                connection_gradients: bool = True) -> SimFunction:
    """The network of ``sim`` (a ``Simulator(differentiable=True)``) run for ``duration`` (ms or a
    quantity) from t = 0 as a function of ``params`` (see the module's docs).

    ``poisson``: how poisson_generator input depends on its rate (what is differentiated):
    "straight_through" (default: Poisson counts in the forward pass, d count / d (rate dt) = 1 in the
    backward pass), "gaussian" (counts rate dt + sqrt(rate dt) xi: the diffusion approximation, exact
    pathwise gradient of that model), "expected" (the mean rate dt every step: a smooth,
    deterministic input).

    ``connection_gradients=False``: the spikes neurons send each other carry no gradient (their values
    are unchanged): a neuron's spikes then depend, for the gradient, on its own parameters, its
    external input and the weights of its incoming connections only; weights between neurons still
    get gradients (d input / d w = the spike). This local approximation (as in e-prop, Bellec et al.
    2020) keeps gradients from growing exponentially through recurrent loops in long runs."""
    if not sim.differentiable:
        raise BadParameterError("as_function: this Simulator is not differentiable; create it with "
                                "nx.Simulator(..., differentiable=True, surrogate='fast_sigmoid').")
    duration = float(np.asarray(to_nest(duration, "ms", "as_function", "duration")))
    from .models.surrogate import resolve
    sim.surrogate = resolve(sim.surrogate)  # a name set after creation is checked here
    run, init, handles, projs = build(sim, duration, params, sim.surrogate, poisson, connection_gradients,
                                      _differentiable_models())
    return SimFunction(run, init, handles, projs, sim, duration, poisson, connection_gradients)


def _differentiable_models():
    """Names of the registered neuron models with the surrogate-gradient hook (Neuron.differentiable)."""
    from .models import registry
    return sorted(n for n in registry.models() if registry.lookup(n).kind == "neuron"
                  and registry.lookup(n).differentiable)
