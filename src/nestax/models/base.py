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
from typing import Any, ClassVar, NamedTuple

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


#: NEST's time base: every time is a whole number of tics (0.001 ms)
TICS_PER_MS = 1000


def time_steps(x, dt):
    """NEST's Time of values ``x`` in ms at resolution ``dt``: rounded to the nearest tic, then whole
    steps. Returns (steps as floats: tics / tics_per_step, exact for grid times; on_grid mask).
    Values within half a tic (0.0005 ms) of a grid time are on the grid, as in NEST; NaN and
    infinities are not."""
    x = np.asarray(x, float)
    tps = int(round(dt * TICS_PER_MS))
    with np.errstate(invalid="ignore"):
        tics = np.floor(x * TICS_PER_MS + 0.5)
        on = np.isfinite(tics) & (np.fmod(tics, tps) == 0)
    return tics / tps, on


class ModelMeta(type):
    def __repr__(cls):
        return f"nestax.{cls.__name__}"


class ProtocolError(TypeError):
    """A model class does not declare what its kind's protocol requires (raised at import)."""


class Model(metaclass=ModelMeta):
    """What every model declares, whatever its kind.

    A concrete model (a class that sets ``name``) is checked against the protocol of its ``kind``
    when the class is created: a capability it must declare and does not is a
    :class:`ProtocolError` at import, never a silent default.
    """

    name: ClassVar[str] = "model"
    #: neuron | spike_source | current_source | rate_source | recorder | synapse
    kind: ClassVar[str] = "model"
    #: NEST's parameter names -> :class:`Param` (default, unit, doc, kind): the single source of
    #: defaults, units and the docs table
    parameters: ClassVar[dict] = {}
    #: dynamic variables -> :class:`State` (unit, initial value or the parameter whose DEFAULT it starts at)
    state: ClassVar[dict] = {}
    #: NEST's alternative parameter names (old name -> name); giving both is an error
    aliases: ClassVar[dict] = {}
    #: NEST's parameter sub-dictionaries (compartment models): name -> suffix of the flat names, so that
    #: ``soma={"g_L": 12.0}`` sets ``g_L.s`` (iaf_cond_alpha_mc)
    nest_groups: ClassVar[dict] = {}
    #: what the protocol of this kind requires a concrete model to define (checked at class creation)
    required: ClassVar[tuple] = ()
    #: the state variables a user may give to create / set (NEST's SetStatus accepts them); None: the
    #: recordable ones (names in both ``state`` and ``recordables()``, not starting with "_"). The
    #: others are values the model computes (read-only in NEST) or its own bookkeeping (refractory
    #: counters, integrator step sizes): create / set refuse them (:func:`nestax.errors.read_only`)
    settable_state: ClassVar[tuple | None] = None
    #: NEST kernel settings the model reads (name -> :class:`Param`: NEST's default and unit), e.g.
    #: eprop_update_interval of the e-prop bsshslm_2020 models. ``Simulator.set_kernel_status`` sets
    #: them for the whole network (checked by ``check_kernel`` of every model that declares them); the
    #: engine adds their values to a neuron's parameters (``prepare`` / ``update`` see ``p[name]``)
    kernel_settings: ClassVar[dict] = {}

    @classmethod
    def check_kernel(cls, settings: dict, dt: float, given: tuple = ()) -> None:
        """Check the kernel settings in force (name -> value in the declared unit, the model's
        ``kernel_settings`` among them) after a call that set those named in ``given``; raise
        BadParameterError. Default: none."""

    def __new__(cls, **overrides):
        return ModelSpec(cls, overrides)

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if "name" in cls.__dict__:
            cls.finalize()

    @classmethod
    def finalize(cls):
        """Check the declarations of a concrete model (and complete its parameter table)."""
        missing = [a for a in cls.required if not hasattr(cls, a)]
        if missing:
            raise ProtocolError(f"model {cls.__name__} (kind {cls.kind!r}) does not declare {', '.join(missing)}, "
                                f"which its protocol requires (see nestax.models.base).")
        unknown = [n for n in (cls.settable_state or ()) if n not in cls.state]
        if unknown:
            raise ProtocolError(f"model {cls.__name__}: settable_state names {', '.join(unknown)}, which are not "
                                "in its state.")

    @classmethod
    def translate(cls, given: dict) -> dict:
        """NEST's forms of the model's values that are not flat parameters (eprop_synapse's
        ``optimizer={"type": "adam", "eta": ...}``) as flat parameters, for create / set /
        set_defaults / copy_model. Default: ``given`` unchanged."""
        return given

    # ---- names -------------------------------------------------------------------------------
    @classmethod
    def recordables(cls) -> tuple:
        return tuple(cls.state)

    @classmethod
    def samples_value(cls) -> bool:
        """A device a multimeter records from: its recordable is ``sampled_value(p, h, s, dt)`` at each
        stamp s (current sources' I, rate sources' and sinusoidal generators' rate)."""
        return cls.kind != "neuron" and hasattr(cls, "sampled_value") and bool(cls.recordables())

    @classmethod
    def settable(cls) -> tuple:
        """The state variables a user may set (see ``settable_state``)."""
        if cls.settable_state is not None:
            return tuple(cls.settable_state)
        rec = set(cls.recordables())
        return tuple(n for n in cls.state if n in rec and not n.startswith("_"))

    @classmethod
    def recordable_unit(cls, name: str) -> str:
        """Unit of a recordable that is not a state variable (names a model makes up per population,
        e.g. cm_default's v_comp<i>); "1" unless the model says otherwise."""
        return "1"

    @classmethod
    def unit_of(cls, name: str) -> str:
        if name in cls.parameters:
            return cls.parameters[name].unit
        if name in cls.state:
            return cls.state[name].unit
        raise unknown_parameter(cls.name, name, list(cls.parameters) + list(cls.state))

    # ---- host-side checks --------------------------------------------------------------------
    @classmethod
    def check(cls, p: dict) -> None:
        """Validate a parameter record; subclasses add model constraints."""

    @classmethod
    def check_grid(cls, p: dict, dt: float) -> None:
        """Checks that need the resolution ``dt`` (ms), made at create / set: times on the time grid
        (devices' start / stop / origin, spike times, sampling intervals). Default: none."""

    @classmethod
    def _on_grid(cls, p, dt, *names, inf_ok=False):
        """Times (ms) that must be non-negative multiples of the resolution, as NEST checks them
        (within half a tic, 0.0005 ms); ``inf_ok``: +inf is allowed (stop = inf: never)."""
        for n in names:
            x = np.asarray(p[n], float).reshape(-1)
            steps, ok = time_steps(x, dt)
            ok &= steps >= 0
            if inf_ok:
                ok |= np.isposinf(x)
            if not np.all(ok):
                bad = x[~ok][0]
                raise BadParameterError(
                    f"{cls.name}: parameter {n!r} = {bad} ms is invalid; expected a multiple of the resolution "
                    f"{dt} ms that is >= 0{' (or inf)' if inf_ok else ''} (NEST: '{n} must be a multiple of the "
                    "simulation resolution').")

    @classmethod
    def run_params(cls, p: dict) -> dict:
        """Numeric stand-ins for parameters the compiled step cannot take as they are (string and list
        parameters stay on the host): name -> array, added to the parameter arrays that ``prepare`` and
        ``update`` see (e.g. the index of a function chosen by name). Default: none."""
        return {}

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


#: NEST's archiving node: every neuron keeps the postsynaptic traces that spike-timing dependent
#: synapses read, with these two parameters (set at create / with ``set``, as in NEST)
ARCHIVING_PARAMS = {
    "tau_minus": Param(20.0, "ms", "Time constant of the postsynaptic STDP trace (read by plastic synapses)"),
    "tau_minus_triplet": Param(110.0, "ms", "Time constant of the slow postsynaptic trace (triplet rules)"),
}


class Neuron(Model):
    """Protocol of a neuron model.

    Required: ``weight_unit``, ``prepare(p, dt) -> derived`` and
    ``update(p, derived, state, syn, I[, key]) -> (state, spikes)``: one step, pure JAX. ``syn`` holds
    this step's input per port (``(n_ports, n)``), ``I`` the generator current read for this step.
    Everything else has a declared default below.
    """

    kind = "neuron"
    required = ("weight_unit", "prepare", "update")
    #: unit of a connection weight onto this model: "pA", "nS", "uS" (cm_default), "mV", "1", or "any"
    #: (the weight is ignored: the target counts spikes, as parrot_neuron)
    weight_unit: ClassVar[str]
    #: input ports (one ring-buffer row each; multi-receptor models override :meth:`port_names`)
    ports: ClassVar[tuple] = ()
    #: current generators on receptor_type r > 0 feed the input port named current_ports[r] (NEST's
    #: iaf_psc_exp: receptor 1, a current filtered by the excitatory synapse); receptor 0 feeds ``I``
    current_ports: ClassVar[dict] = {}
    #: update() takes a ``key`` (a jax PRNG key per step)
    stochastic: ClassVar[bool] = False
    #: what the neuron sends and accepts: "spike" (spikes, weight x multiplicity), "binary" (NEST's
    #: binary neurons: +1 on an up-transition, -1 on a down-transition) or "rate" (a continuous rate
    #: every step, through rate connections only)
    signal: ClassVar[str] = "spike"
    #: the engine delivers spike multiplicity to the ports instead of weight x multiplicity
    counts_input: ClassVar[bool] = False
    #: generator currents are used in the step they arrive, without NEST's usual one-step lag (as
    #: binary neurons; NEST's cm_default adds the current to the step's matrix equation)
    current_same_step: ClassVar[bool] = False
    #: receptors whose spikes are scaled by a value their sender computes (iaf_tum_2000's receptor 1)
    payload_receptors: ClassVar[tuple] = ()
    #: state variable sent with each spike to a payload receptor ("" : this model sends none)
    payload_state: ClassVar[str] = ""
    #: what the payload is, for messages (iaf_tum_2000: "u x")
    payload_doc: ClassVar[str] = "payload"
    #: neurons of this model connect to each other on payload receptors only (NEST's iaf_tum_2000)
    payload_exclusive: ClassVar[bool] = False
    #: payload receptors take spikes from any model that sends a payload ("any") or from this model
    #: only ("same": NEST's iaf_bw_2001 checks the sender's type)
    payload_senders: ClassVar[str] = "any"
    #: a modulator node (volume_transmitter): the state variable holding the multiplicity of the
    #: spikes arriving in a step, and the parameter giving its update interval in min_delay slices
    modulator_state: ClassVar[str] = ""
    modulator_interval: ClassVar[str] = ""
    #: a node attached to connections through the synapse spec under this key
    attach_as: ClassVar[str | None] = None
    #: a recordable that shows the generator current read for the NEXT step (NEST's glif ``I``)
    next_current: ClassVar[str | None] = None
    #: rate neurons: the kind of rate event the neuron sends and accepts ("rate": NEST's rate
    #: connections; another name, e.g. "diffusion", pairs it with the RateConnections of that event)
    rate_event: ClassVar[str] = "rate"
    #: NEST's archiving node: the neuron has ARCHIVING_PARAMS (tau_minus, ...) and, when it is the
    #: target of a plastic synapse, the engine keeps its postsynaptic spike archive
    archiving: ClassVar[bool] = True
    #: the neuron sends spikes (False: its only output is a value sent every step, NEST's
    #: astrocyte_lr_1994: spiking connections from it and spike recorders of it are refused)
    sends_spikes: ClassVar[bool] = True
    #: a spiking neuron that also sends a value every step through the RateConnections of this rate
    #: event ("" : none); it declares ``emit(p, d, s) -> (value, s)``, called at the start of each
    #: step as for rate neurons (astrocyte_lr_1994: its slow inward current, "sic")
    sends_rate_event: ClassVar[str] = ""
    #: rate events a spiking neuron accepts through RateConnections that declare ``feeds`` (the value
    #: goes to the named input port, e.g. aeif_cond_alpha_astro's "sic")
    accepts_rate_events: ClassVar[tuple] = ()
    #: a spiking neuron that takes the plain value of rate connections WITHOUT ``feeds``: weight x value
    #: goes to the port its ``route`` picks for the connection's receptor_type, which must be one of
    #: these (NEST's eprop_readout: learning window on 1, target signal on 2); no phi applies
    rate_receptors: ClassVar[tuple] = ()
    #: a neuron that sends a value computed in this step to its targets in the same step, after every
    #: neuron has updated and before spikes are transmitted ("" : none): the rate event carried by the
    #: RateConnections whose ``rate_kind`` is "after_update". It declares ``emit_after(p, d, s) -> value``
    #: (``s``: its state after this step's update); each target adds factor x value to the ports its
    #: connections ``feed`` and declares ``absorb(p, d, s, inp) -> s`` with ``inp`` those sums
    #: ((n_ports, n), zeros on the other ports), called after the update of every step (NEST's e-prop
    #: readouts: the error signal, a secondary event delivered before the next step's spikes)
    sends_after_update: ClassVar[str] = ""
    #: NEST's handler applies a rate event as it arrives instead of buffering it for its delay
    #: (eprop_readout): a rate source device's value of stamp s is then used in step s (NEST delivers
    #: the values a generator computed for the next slice at the start of that slice; min_delay one step)
    rate_on_arrival: ClassVar[bool] = False
    #: names in the output of ``prepare`` that a synapse may read through ``reads_target_params`` like
    #: parameters (per-neuron constants the neuron derives, e.g. a propagator)
    offers_derived: ClassVar[tuple] = ()
    #: recordables that show the input of the NEXT step on a port (recordable -> name in ``ports``;
    #: NEST records a buffered current read for the next step, aeif_cond_alpha_astro's I_SIC)
    next_inputs: ClassVar[dict] = {}
    #: state variables whose value after every step the engine keeps for the last
    #: ``Simulator.step_history`` steps when the neuron is the target of a synapse that reads them
    #: (``Synapse.uses_step_history``; NEST's Clopath archiving node: LTP / LTD history by step)
    step_history: ClassVar[tuple] = ()
    #: spike receptor types on which every incoming connection gets an input port of its own (NEST's
    #: iaf_bw_2001_exact: a unique rport per NMDA connection). The engine appends these ports after
    #: ``port_names`` (K = the most such connections any neuron of the block has, in connection
    #: order), puts each connection's spike multiplicity there (not weight x multiplicity), passes
    #: the connections' weights to update() as the parameter ``own_port_weights`` ((n, K); 0 where a
    #: neuron has fewer) and sizes the state variables named in ``own_port_state`` as (n, K) arrays
    #: (0 at first). Static synapses only; such connections are made before the first simulate.
    own_port_receptors: ClassVar[tuple] = ()
    own_port_state: ClassVar[tuple] = ()

    #: a parameter giving each node's probability that a spike it sends reaches a target, drawn
    #: independently per connection and spike (NEST's spike_dilutor: p_copy); "" : every spike is
    #: sent. Its static outgoing connections are delivered densely with a key per step and projection;
    #: a spike_recorder sees one thinned copy as well
    thinned_by: ClassVar[str] = ""
    #: a device that NEST runs like a node (spike_dilutor): update() takes ``step=(k, m)``, the engine
    #: step and NEST's min_delay in steps, for its start / stop / origin window (NEST checks a device's
    #: window at the origin of each min_delay slice)
    device_window: ClassVar[bool] = False
    #: update() takes ``step=(k, m)`` as for ``device_window`` (k: the engine step, NEST's time step t of
    #: the update; m: min_delay in steps): neurons whose schedule follows the kernel's clock (the e-prop
    #: bsshslm_2020 models' update intervals)
    update_takes_step: ClassVar[bool] = False
    #: NEST's gap-junction neurons (hh_psc_alpha_gap, ...): targets and sources of ``gap`` synapses.
    #: ``update`` then takes ``gap=(g_sum, coef)``: g_sum (n,) the summed conductance of the neuron's
    #: gap junctions, coef (K, n) the sum over partners j of g_ij x the coefficients of j's
    #: ``gap_state`` as a polynomial in the fraction s in [0, 1] of the step (NEST's waveform
    #: relaxation interpolation, K = order + 1); the gap current is -g_sum V + sum_o coef[o] s^o.
    #: It also declares ``gap_slope(p, d, s, I, gap, frac) -> d(gap_state)/dt`` (per ms) at the
    #: fraction ``frac`` of the step, from which the engine builds the Hermite coefficients.
    gap: ClassVar[bool] = False
    #: the engine may pass a parameter that has the same value for every neuron of a block as one
    #: value (shape (1,)) instead of n copies: the update of a large homogeneous population then reads
    #: one number, not a stream. Off by default: XLA compiles the two forms differently (FMA
    #: contraction), which moves the last bits of adaptive-step ODE models and, near a threshold,
    #: their NEST parity; exact-integration models whose results are unchanged switch it on.
    params_once: ClassVar[bool] = False
    #: the state variable a gap neuron sends to its partners (its membrane potential)
    gap_state: ClassVar[str] = "V_m"
    #: state variables that a waveform-relaxation iteration does not restore when it rewinds the
    #: neuron to the start of the slice (NEST keeps the integrator's step size in its buffers)
    gap_kept: ClassVar[tuple] = ()
    #: NEST's precise-timing neurons (the ``_ps`` models): spikes carry an offset within the step (a
    #: spike stamped s with offset o happened at s*h - o). ``update`` then takes
    #: ``events=(w, off, valid)``, each (n, C): the input of precise senders in this step, in time order
    #: (decreasing offset; unused places last with valid False), besides ``syn`` (the grid senders'
    #: input, all at offset 0, after every event of the step), and returns
    #: ``(state, (counts, offsets))``, each (n, M): up to M spikes per neuron and step with their
    #: offsets (counts 0: no spike). See :mod:`nestax.engine.precise`.
    precise: ClassVar[bool] = False
    #: differentiable mode (:mod:`nestax.models.surrogate`, docs/gradients.md): ``update`` takes a
    #: ``threshold=`` keyword (default ``surrogate.EXACT``) and decides its spikes with
    #: ``threshold.spike(v, theta)`` and resets with ``threshold.reset(spike, value, v)``, so that a
    #: :class:`~nestax.models.surrogate.Surrogate` gives float spikes with a surrogate derivative in
    #: v - theta. With ``EXACT`` the results are bit for bit those of the model without it. A model
    #: integrated by an adaptive loop also follows ``threshold.ode_substeps`` (fixed steps) when
    #: ``threshold.differentiable``. False: the model cannot run in differentiable mode.
    differentiable: ClassVar[bool] = False

    @classmethod
    def finalize(cls):
        super().finalize()
        if cls.differentiable:  # a subclass whose own update() has no threshold= is not differentiable
            import inspect
            if "threshold" not in inspect.signature(cls.update).parameters:
                cls.differentiable = False
        if any(v not in cls.state for v in cls.step_history):
            raise ProtocolError(f"model {cls.__name__}: step_history names a variable that is not in its state.")
        if cls.archiving and not all(n in cls.parameters for n in ARCHIVING_PARAMS):
            cls.parameters = {**cls.parameters, **{k: v for k, v in ARCHIVING_PARAMS.items()
                                                   if k not in cls.parameters}}
        if cls.signal not in ("spike", "binary", "rate"):
            raise ProtocolError(f"model {cls.__name__}: signal = {cls.signal!r}; expected 'spike', 'binary' or 'rate'.")
        if cls.signal == "rate":
            missing = [a for a in ("emit", "input_nl", "phi_params") if not hasattr(cls, a)]
            if missing:
                raise ProtocolError(f"rate neuron {cls.__name__} does not declare {', '.join(missing)}.")
        if cls.sends_after_update and not hasattr(cls, "emit_after"):
            raise ProtocolError(f"model {cls.__name__} sends {cls.sends_after_update} values after its update but "
                                "does not declare emit_after().")
        if cls.sends_rate_event and not hasattr(cls, "emit"):
            raise ProtocolError(f"model {cls.__name__} sends {cls.sends_rate_event} events but does not declare emit().")
        bad = [n for n, port in cls.next_inputs.items() if port not in cls.ports]
        if bad:
            raise ProtocolError(f"model {cls.__name__}: next_inputs names {', '.join(bad)} on ports not in ports.")

    @classmethod
    def observe(cls, p, s, name):
        """The user-visible value of state variable ``name`` (models holding V_m relative override)."""
        return s[name]

    @classmethod
    def assign(cls, p, s, name, value):
        """Inverse of :meth:`observe`: the internal value for a user-given ``value``."""
        return value

    @classmethod
    def on_given(cls, p, s, given) -> dict:
        """The internal state ``s`` after create / set gave the state variables named in ``given``
        (parameters ``p``): a model whose other state NEST recomputes from a given one does it here
        (the e-prop adaptive neurons: V_th_adapt from adaptation). Default: ``s`` unchanged."""
        return s

    @classmethod
    def port_names(cls, p) -> tuple:
        """Input ports of a population with parameters ``p`` (multisynapse models: one per receptor)."""
        return tuple(cls.ports)

    @classmethod
    def receptor_range(cls, p) -> tuple:
        """Allowed receptor_type values (lo, hi) for a population with parameters ``p``."""
        return (0, 0)

    @classmethod
    def current_port_map(cls, p) -> dict:
        """receptor_type r > 0 of current generators -> input port name, for a population with
        parameters ``p`` (default: ``current_ports``; cm_default: one port per compartment)."""
        return dict(cls.current_ports)

    @classmethod
    def fit_state(cls, p, dt, s):
        """The state ``s`` (name -> host array, the block's) made fit for a run at resolution ``dt``,
        called when the network is lowered for simulate: a model whose state has shapes that depend on
        the resolution (gif_pop_psc_exp: a history of len_kernel steps) builds it here. Default: ``s``."""
        return s

    @classmethod
    def recorded_counts(cls, spk):
        """What a spike_recorder sees of this step's output ``spk`` (events per neuron)."""
        return spk

    @classmethod
    def draws(cls, p) -> bool:
        """Whether the random numbers update() draws can change what it computes with the block's run
        parameters ``p`` (host arrays). A sharded run (engine/shard.py) splits a block only if not: a
        draw over the block's neurons at once depends on how they are split. Default: ``stochastic``."""
        return cls.stochastic

    @classmethod
    def route(cls, weights, receptor_type):
        """Port index and sign factor per connection (default: one port, weight as given)."""
        return route_one_port(weights)


class SpikeEmission(NamedTuple):
    """What a spike source sends through its connections in one step (per connection).

    ``counts``: spikes (multiplicity) -- what a parrot or a spike_recorder sees; ``weighted``: the
    factor the connection weight is multiplied by (None: ``counts``); ``negative``: a factor for the
    port of the NEGATED weight (spike_generator's negative spike weights; None: nothing there).
    """
    counts: Any
    weighted: Any = None
    negative: Any = None
    #: precise sources (``SpikeSource.emits_offsets``): offsets (ms) of the spikes within the step,
    #: (n_conn, M) like ``counts`` and ``weighted`` then (up to M spikes per step; ``weighted`` holds
    #: signed weight factors and ``negative`` is unused)
    offsets: Any = None


class SpikeSource(Model):
    """Protocol of a device that emits spikes (poisson_generator, spike_generator, ...).

    Required: ``emit(p, h, out, k, dt, key, src, **static) -> SpikeEmission`` for engine step k (spikes
    stamped k + 1), per connection (``src``: the generator index of each connection; ``key``: a key per
    step and projection; ``out``: what :meth:`advance` returned for this step).

    A source with its own run state (spike_generator's pointer into its spike list, a shared renewal
    train) declares :meth:`init_run_state` and :meth:`advance`; the engine carries that state through
    the scan and across ``simulate`` calls. A source with a state per connection (gamma_sup_generator's
    occupation numbers per target) sets ``conn_state`` and declares :meth:`init_conn_state`; its
    ``emit`` then takes ``cs=`` (that projection's state) and returns ``(SpikeEmission, new cs)``.
    """

    kind = "spike_source"
    required = ("emit", "host_arrays")
    #: each connection gets its own independent realisation (one generator -> N targets: N trains)
    per_connection_random: ClassVar[bool] = False
    #: the source draws its spikes when the network is built: ``host_arrays(p, dt, seeds=...)`` gets
    #: one integer seed per generator (its ``rng_seed`` if >= 0, else one derived from the
    #: Simulator's seed and the generator's global id) for ``numpy.random.default_rng``
    draws_when_built: ClassVar[bool] = False

    @classmethod
    def static_args(cls, p, dt, itemsize):
        """Compile-time constants passed to ``emit`` as keywords (none by default)."""
        return {}

    #: the run state of :meth:`init_run_state` is kept when the network is rebuilt between ``simulate``
    #: calls (a ``set``, a new connection), as long as its arrays keep their shapes; False: it is
    #: rebuilt from the host arrays at the current step (spike_generator's pointer)
    run_state_kept: ClassVar[bool] = False
    #: differentiable runs (docs/gradients.md): ``expected_counts(p, h, k, dt, src)`` -> the expected
    #: number of spikes per connection in engine step k, a smooth function of the parameters (a
    #: Poisson source's rate x dt within its window). None: the source's spikes carry no gradient
    expected_counts: ClassVar = None
    #: :meth:`advance` takes ``key=``: a PRNG key of the step and generator block that does not depend
    #: on the projection (a train shared by all targets, a spike_recorder connected directly included)
    advance_key: ClassVar[bool] = False
    #: the source keeps a run state per connection (a renewal process per target):
    #: :meth:`init_conn_state` builds it, ``emit`` takes it as ``cs=`` and returns
    #: ``(SpikeEmission, new cs)``. The engine keeps it across ``simulate`` calls and rebuilds;
    #: connections made later start from :meth:`init_conn_state`.
    conn_state: ClassVar[bool] = False

    @classmethod
    def init_run_state(cls, h, k_now):
        """The source's run state at engine step ``k_now`` (host arrays ``h``): a dict of arrays."""
        return {}

    @classmethod
    def init_conn_state(cls, p, h, src, k_now):
        """Per-connection run state (``conn_state`` sources) at engine step ``k_now``: a dict of host
        arrays whose first dimension runs over the connections, whose generators are ``src``."""
        return {}

    @classmethod
    def advance(cls, p, h, rs, k):
        """Once per step, before any connection is served: (new run state, per-generator output).
        With ``advance_key`` the engine passes ``key=`` as well."""
        return rs, None

    @classmethod
    def emits_offsets(cls, p) -> bool:
        """True if the source's spikes carry offsets within the step (precise spike times: ``emit``
        then returns a SpikeEmission with ``offsets``, its fields (n_conn, M))."""
        return False

    @classmethod
    def signed_spikes(cls, p) -> bool:
        """True if some spikes go to the port of the negated connection weight (SpikeEmission.negative)."""
        return False

    @classmethod
    def shared_table(cls, p, gens, dt, dtype):
        """An optional array precomputed for connections from generators ``gens`` (passed to emit as
        ``table=``), e.g. a Poisson CDF when they share one rate; None: no table."""
        return None

    @classmethod
    def pad_table(cls, table, length: int):
        """``table`` (from :meth:`shared_table`) lengthened to ``length`` entries along its first axis
        without changing what ``emit`` draws with it, so that batched runs (nx.Batch) can stack the
        tables of variants with other parameters; None: it cannot be (such variants are refused)."""
        return None


class CurrentSource(Model):
    """Protocol of a device that injects a current (dc, ac, step_current, noise generators).

    Required: ``active(h, s)`` and ``emit(p, h, s, dt, key, src, **static)`` (the current of each
    connection for stamp s), ``host_arrays(p, dt)``. A source whose recordables include ``I`` also
    gives ``amplitude(p, h, s, dt)`` (per generator). A current reaches receptor 0 of the target
    (``I`` of update) or one of the target's ``current_ports``.
    """

    kind = "current_source"
    required = ("active", "emit", "host_arrays")

    @classmethod
    def finalize(cls):
        super().finalize()
        if "I" in cls.recordables() and not hasattr(cls, "amplitude"):
            raise ProtocolError(f"current source {cls.__name__} records 'I' but does not declare amplitude().")
    per_connection_random: ClassVar[bool] = False
    #: may drive NEST's binary neurons (NEST: noise_generator only)
    drives_binary: ClassVar[bool] = False

    @classmethod
    def static_args(cls, p, dt, itemsize):
        return {}

    @classmethod
    def carry_over(cls, old_p, new_p, k, dt):
        """Parameters ``new_p`` set at step ``k`` (between simulate calls), completed with what the
        source keeps of its past (step_current_generator: the amplitude in force). The engine has
        computed the current up to stamp k with ``old_p``."""
        return new_p

    @classmethod
    def sampled_value(cls, p, h, s, dt):
        """The recorded I at stamp s: the amplitude while active, else 0 (NEST)."""
        import jax.numpy as jnp
        return jnp.where(cls.active(h, s), cls.amplitude(p, h, s, dt), 0.0)


class RateSource(Model):
    """Protocol of a device that sends a rate to rate neurons (NEST's delayed-rate generators:
    step_rate_generator).

    Required: ``active(h, s)`` (whether the device sends at stamp ``s``), ``amplitude(p, h, s, dt)``
    (the value it sends then) and ``host_arrays(p, dt)``. Both are elementwise over the generators:
    the engine calls them with the per-generator arrays ``p``/``h`` and one stamp (to record the
    value), and with those arrays gathered per connection and one stamp per connection (to deliver
    it), so ``s`` broadcasts against the first dimension of ``p`` and ``h``. Its recordable (``rate``)
    at stamp s is ``active(h, s) x amplitude(p, h, s, dt)``, which is also what it sends.

    It connects only through a delayed rate connection (``rate_kinds``), to rate neurons that accept
    its ``rate_event``. Timing (NEST 3.10): NEST computes a rate generator's values one min_delay slice
    (m steps) ahead of the network, so a target reads the value of stamp s in its step s - 1 + d - m
    (d: the connection's delay in steps); with d = m, in the step that ends at s. The engine computes
    the value each connection needs in the target's step directly from these functions (no ring
    buffer), which is the same thing. A ``set`` between ``simulate`` calls is completed by
    :meth:`carry_over`, as for current sources.
    """

    kind = "rate_source"
    required = ("active", "amplitude", "host_arrays")
    #: the rate event it sends (targets must accept it, RateConnection.rate_event)
    rate_event: ClassVar[str] = "rate"
    #: the rate connections it may use (RateConnection.rate_kind): NEST's DelayedRateConnectionEvent
    rate_kinds: ClassVar[tuple] = ("delayed",)

    @classmethod
    def static_args(cls, p, dt, itemsize):
        """Compile-time constants (none by default; the engine's source plan keeps them)."""
        return {}

    @classmethod
    def carry_over(cls, old_p, new_p, k, dt):
        """Parameters ``new_p`` set at step ``k``, completed with what the source keeps of its past."""
        return new_p

    @classmethod
    def sampled_value(cls, p, h, s, dt):
        """The recorded rate at stamp s: the amplitude while active, else 0 (NEST)."""
        import jax.numpy as jnp
        return jnp.where(cls.active(h, s), cls.amplitude(p, h, s, dt), 0.0)


class Recorder(Model):
    """Protocol of a recording device: an event stream that becomes part of the Result.

    ``direction``: "in" (senders connect to it: spike_recorder), "out" (it observes its targets:
    multimeter) or "synapse" (attached to connections through the synapse spec under ``attach_as``:
    weight_recorder). ``stream``: "spikes" (events: sender, stamp, multiplicity) or "samples" (values of
    ``record_from`` at a sample grid, :meth:`sample_grid`).
    """

    kind = "recorder"
    required = ("direction", "stream")
    direction: ClassVar[str]
    stream: ClassVar[str]
    #: parameters that cannot change once the recorder is connected (NEST's multimeter: record_from,
    #: interval, offset); ``set`` refuses them then
    fixed_when_connected: ClassVar[tuple] = ()
    #: a recorder attached to connections (direction "synapse") is given in the synapse spec under
    #: this key (weight_recorder: ``weight_recorder=wr``)
    attach_as: ClassVar[str | None] = None
    #: a recorder that computes on its senders' spikes on the host (correlation detectors, spin_detector):
    #: ``digest(events, params, state, dt, min_delay, k_end, gid=its gid) -> state`` at the end of each
    #: simulate call, with ``events`` its connections' spikes of the call (arrays stamps, senders,
    #: receptors, mult, weight, device, link); ``state`` persists across calls (None at first and after
    #: a reset)
    digest: ClassVar = None
    #: NEST hands a neuron's spike to this recorder whole, with its multiplicity (a local device such as
    #: spin_detector); False: as m events of multiplicity 1 (a node with proxies: correlation detectors)
    whole_spikes: ClassVar[bool] = False
    #: outputs read from that state (``sim.get(rec, name)``, ``res.get(rec, name)``)
    accumulated: ClassVar[tuple] = ()
    #: parameters whose ``set`` clears that state (as NEST's SetStatus does)
    resets_state: ClassVar[tuple] = ()
    #: NEST's memory backend keeps the recorder's events of every simulate call until ``n_events`` is
    #: set to 0: ``sim.get(rec, "events" / "n_events")`` reads them, ``sim.set(rec, n_events=0)``
    #: clears them (see :mod:`nestax.recording.kept`)
    keeps_events: ClassVar[bool] = False

    @classmethod
    def n_receptors(cls, p):
        """Receptor types a connection to this recorder may use (0 .. n-1)."""
        return 1

    @classmethod
    def recordables(cls):
        return ()


class Synapse(Model):
    """Protocol of a connection model.

    Every synapse has ``weight``, ``delay`` (unless instantaneous) and ``receptor_type`` parameters;
    the others are per-connection parameters stored with the connection.

    A plastic synapse (``plastic = True``) declares its per-connection state in ``connection_state``
    (name -> :class:`State`; the weight is always part of it) and
    ``transmit(a, s, post, cnt, k, tics_per_step) -> (s, w, overflow)``: the update when a spike of the
    presynaptic neuron is transmitted in step k (stamp k + 1), elementwise over connections. ``a``:
    the connection's parameters and ``src``, ``tgt_local``, ``d`` (delay in steps); ``s``: its state;
    ``cnt``: 1 where the connection's presynaptic neuron spiked, else 0 (a spike of multiplicity m is
    passed as m calls in a row, as NEST unrolls it; connections with ``cnt == 0`` must come back
    unchanged: the dense path passes every connection); ``post``: the postsynaptic archive of the
    target population (see :mod:`nestax.engine.archive`) when ``uses_post_archive``. It returns the
    new state, the weight to deliver and a flag that the archive was too short. Delivery is
    event-driven for large projections: only connections of spiking sources are updated.
    ``_hom`` variants share one parameter set: their parameters are model-wide (``homogeneous``).
    """

    kind = "synapse"
    #: per-connection state changed when a spike is transmitted
    plastic: ClassVar[bool] = False
    connection_state: ClassVar[dict] = {}
    #: reads the postsynaptic spike archive of its target (NEST's archiving node)
    uses_post_archive: ClassVar[bool] = False
    #: the target's per-step history variables this synapse reads (``Neuron.step_history``); transmit()
    #: then finds each as an (n_target, L) array in ``post``: column s % L holds the value after the
    #: step stamped s, for the last L stamps (see :mod:`nestax.engine.step_history`)
    uses_step_history: ClassVar[tuple] = ()
    #: parameters of the target neuron this synapse reads (NEST: a synapse that asks its target for
    #: g_L, C_m, ...); transmit() finds them in ``post["target"]``, name -> (n_target,) array (or a
    #: scalar), indexed with ``a["tgt_local"]``; connect refuses a target model that lacks one of them
    #: (a parameter, or a derived value the target offers: ``Neuron.offers_derived``)
    reads_target_params: ClassVar[tuple] = ()
    #: plastic synapses: projections of at least this many connections are delivered event-driven
    #: (only the connections of spiking sources are updated); None: the engine's default
    #: (``nestax.engine.delivery.EVENT_MIN_SYNAPSES``). A model whose transmit loops over many steps per
    #: spike (eprop_synapse) sets a low value
    event_min_synapses: ClassVar[int | None] = None
    #: the only delay (in steps) the model accepts, None: any (NEST's eprop_synapse: one step)
    required_delay_steps: ClassVar[int | None] = None
    #: "delayed" | "instantaneous" | "after_update" for rate connections (RateConnection), None for
    #: spiking synapses ("after_update": the source's ``emit_after`` value of a step reaches the target's
    #: ``absorb`` in the same step, see ``Neuron.sends_after_update``)
    rate_kind: ClassVar[str | None] = None
    #: parameters shared by all connections of the model (NEST's _hom synapses)
    homogeneous: ClassVar[tuple] = ()
    #: the parameter whose sign picks the target's port (plastic synapses: Wmax, which keeps a
    #: weight depressed to 0 on its receptor)
    route_by: ClassVar[str] = "weight"
    #: transmit() takes a ``key``: a PRNG key of this step and projection (one draw per connection
    #: passed; each spike of a multiplicity gets its own key)
    stochastic: ClassVar[bool] = False
    #: reads the spike list of a modulator node (volume_transmitter): transmit() takes ``mod=`` and
    #: the model declares ``trigger(a, s, post, mod, k_trig, tics_per_step) -> (s, overflow)``, the
    #: modulator's periodic update; its spikes are transmitted at the end of each min_delay slice
    #: (NEST's schedule, see stdp_dopamine_synapse)
    uses_modulator: ClassVar[bool] = False
    #: an electrical coupling (NEST's gap_junction): no delay, the weight is a conductance g (nS), the
    #: target receives g (V_source - V_target) continuously; only between neurons that declare ``gap``
    #: (and ``gap_slope``). NEST requires the connections to be symmetric (nestax.network.checks.gap)
    gap: ClassVar[bool] = False

    @classmethod
    def finalize(cls):
        super().finalize()
        if cls.plastic and cls.transmit.__func__ is Synapse.transmit.__func__:
            raise ProtocolError(f"plastic synapse {cls.__name__} does not declare transmit().")
        if "weight" not in cls.parameters:
            raise ProtocolError(f"synapse {cls.__name__} has no 'weight' parameter.")

    @classmethod
    def check_connections(cls, w, params, sources_are_neurons: bool):
        """Connect-time checks of a plastic synapse (weights ``w``, per-connection ``params``)."""

    #: ``continuous_delay(dms, dt) -> (steps, delay in ms)``: how a delay set on existing connections
    #: maps to steps when the model keeps delays between grid points (cont_delay_synapse); None:
    #: rounded to the nearest step, as at connect time
    continuous_delay: ClassVar[Any] = None

    @classmethod
    def transmit(cls, a, s, post, cnt, k, tics_per_step):
        """A static synapse passes its weight unchanged (the engine calls this when a weight_recorder
        logs its connections one by one)."""
        import jax.numpy as jnp
        return s, s["weight"], jnp.zeros((), bool)


def connection_params(weight: float = 1.0, delay_doc: str = "Transmission delay") -> dict:
    """The first three parameters of every spiking synapse: weight (in the target model's unit),
    delay (ms) and receptor_type."""
    return {"weight": Param(weight, "1", "Synaptic weight, in the target model's unit"),
            "delay": Param(1.0, "ms", delay_doc),
            "receptor_type": Param(0, "1", "Receptor port of the target", "int")}


class RateConnection(Synapse):
    """Protocol of a rate connection between rate neurons: ``rate_kind`` is "delayed" (the target
    uses the value ``delay`` later) or "instantaneous" (the same step; no delay parameter)."""

    required = ("rate_kind",)
    #: the rate event it carries; it connects only rate neurons of the same ``rate_event``
    rate_event: ClassVar[str] = "rate"
    #: () : the target adds weight x rate to the port its ``route`` picks (through its phi);
    #: ((factor parameter, target port), ...): the target adds factor x rate to each named port,
    #: with no phi (the target reads the sums itself), e.g. a drift and a diffusion input
    feeds: ClassVar[tuple] = ()


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
