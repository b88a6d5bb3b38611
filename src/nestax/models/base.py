"""The shape every nestax model takes.

A model is a class with no instance state of its own that matters at run time:

- ``parameters``: NEST's parameter names, each a :class:`Param` with NEST's default and unit.
- ``state``: the dynamic variables, each a :class:`State` with its unit and initial value (a number
  or the name of the parameter it starts from, e.g. V_m starts at E_L).
- ``check(p)``: host-side validation of a parameter record (dict of float arrays), raising
  :class:`~nestax.errors.BadParameterError` that names model, parameter, value and constraint.
- ``prepare(p, dt)``: derived constants (propagators), pure JAX.
- ``update(p, d, s, inp)``: one step, pure JAX, returns the new state and the spike counts.

Calling a model class with keyword arguments gives a :class:`ModelSpec`: the model plus parameter
overrides, usable wherever the model is (``sim.create(nx.iaf_psc_exp(tau_m=20.), 10)``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..errors import BadParameterError, unknown_parameter
from .common import route_one_port


@dataclass(frozen=True)
class Param:
    default: Any
    unit: str = "1"
    doc: str = ""
    kind: str = "float"  # float | int | bool | array | str | list


@dataclass(frozen=True)
class State:
    unit: str
    init: Any  # a number, or the name of a parameter to start from
    doc: str = ""


class ModelMeta(type):
    def __repr__(cls):
        return f"nestax.{cls.__name__}"


class Model(metaclass=ModelMeta):
    name: ClassVar[str] = "model"
    kind: ClassVar[str] = "neuron"  # neuron | spike_source | current_source | recorder | synapse
    parameters: ClassVar[dict] = {}
    state: ClassVar[dict] = {}
    ports: ClassVar[tuple] = ()
    # current generators on receptor_type r > 0 feed the input port named current_ports[r] (NEST's
    # iaf_psc_exp: receptor 1, a current filtered by the excitatory synapse); receptor 0 feeds the
    # current argument of update()
    current_ports: ClassVar[dict] = {}
    stochastic: ClassVar[bool] = False  # True: update() takes a ``key`` (a jax PRNG key per step)
    # what a neuron sends and accepts: "spike" (spikes, weight x multiplicity), "binary" (NEST's binary
    # neurons: +1 on an up-transition, -1 on a down-transition) or "rate" (a continuous rate every step,
    # through rate_connection_delayed / rate_connection_instantaneous only)
    signal: ClassVar[str] = "spike"

    def __new__(cls, **overrides):
        return ModelSpec(cls, overrides)

    # ---- names -------------------------------------------------------------------------------
    @classmethod
    def recordables(cls) -> tuple:
        return tuple(cls.state)

    @classmethod
    def unit_of(cls, name: str) -> str:
        if name in cls.parameters:
            return cls.parameters[name].unit
        if name in cls.state:
            return cls.state[name].unit
        raise unknown_parameter(cls.name, name, list(cls.parameters) + list(cls.state))

    @classmethod
    def observe(cls, p, s, name):
        """The user-visible value of state variable ``name`` (models holding V_m relative override)."""
        return s[name]

    @classmethod
    def assign(cls, p, s, name, value):
        """Inverse of :meth:`observe`: the internal value for a user-given ``value``."""
        return value

    @classmethod
    def port_names(cls, p) -> tuple:
        """Input ports of a population with parameters ``p`` (multisynapse models: one per receptor)."""
        return tuple(cls.ports)

    @classmethod
    def receptor_range(cls, p) -> tuple:
        """Allowed receptor_type values (lo, hi) for a population with parameters ``p``."""
        return (0, 0)

    @classmethod
    def recorded_counts(cls, spk):
        """What a spike_recorder sees of this step's output ``spk`` (events per neuron)."""
        return spk

    @classmethod
    def route(cls, weights, receptor_type):
        """Port index and sign factor per connection (default: one port, weight as given)."""
        return route_one_port(weights)

    # ---- host-side checks --------------------------------------------------------------------
    @classmethod
    def check(cls, p: dict) -> None:
        """Validate a parameter record; subclasses add model constraints."""

    # helpers for subclasses' check()
    @classmethod
    def _unit_suffix(cls, name):
        unit = cls.parameters[name].unit
        return "" if unit in ("1", "") else " " + unit

    @classmethod
    def _require(cls, p, name, ok, expected):
        ok = np.asarray(ok)
        if not np.all(ok):
            bad = np.asarray(p[name])
            if bad.ndim:
                bad = bad[np.nonzero(~ok)[0][0]] if ok.shape == bad.shape else bad.ravel()[0]
            raise BadParameterError(
                f"{cls.name}: parameter {name!r} = {bad}{cls._unit_suffix(name)} is invalid; expected {expected}."
            )

    @classmethod
    def _positive(cls, p, *names):
        for n in names:
            cls._require(p, n, np.asarray(p[n]) > 0, "a value > 0" + cls._unit_suffix(n))

    @classmethod
    def _nonnegative(cls, p, *names):
        for n in names:
            cls._require(p, n, np.asarray(p[n]) >= 0, "a value >= 0" + cls._unit_suffix(n))

    @classmethod
    def _reset_below_threshold(cls, p):
        """V_reset < V_th on every neuron; the message names the first neuron that breaks it, with its V_th."""
        v_reset, v_th = np.broadcast_arrays(np.asarray(p["V_reset"], float), np.asarray(p["V_th"], float))
        bad = np.nonzero(~(v_reset < v_th).reshape(-1))[0]
        if len(bad):
            i = bad[0]
            raise BadParameterError(
                f"{cls.name}: parameter 'V_reset' = {v_reset.reshape(-1)[i]} mV is invalid; expected V_reset < "
                f"V_th (that neuron's V_th = {v_th.reshape(-1)[i]} mV).")


@dataclass(frozen=True)
class ModelSpec:
    """A model with parameter overrides (brainpy.state style ``nx.iaf_psc_exp(tau_m=...)``)."""

    model: type
    params: dict = field(default_factory=dict)

    @property
    def name(self):
        return self.model.name

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.model.name}({args})"


def resolve_model(model):
    """Model class, ModelSpec or name string -> (model class, overrides)."""
    from . import registry
    if isinstance(model, ModelSpec):
        return model.model, dict(model.params)
    if isinstance(model, str):
        return registry.lookup(model), {}
    if isinstance(model, type) and issubclass(model, Model):
        return model, {}
    raise TypeError(f"expected a nestax model, a model spec or a NEST model name, got {model!r}")
