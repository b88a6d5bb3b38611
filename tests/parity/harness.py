"""One experiment, run in NEST 3.10 and in nestax, and the sample alignment of the two recordings.

The parity tests build the same small network on both sides: ``n`` neurons of one model with per-neuron
parameters (and parameters common to all), a spike_generator connected with (weight, delay) or
(weight, delay, receptor_type) connections, an optional current generator ``(model, params, delay)``,
a multimeter sampling ``rec`` every ``dt`` and a spike_recorder, simulated in one call or in the
given split calls. ``run_nest`` / ``run_nestax`` return a :class:`Recording` in the same form for both;
``aligned`` pairs the samples of one neuron on their common time stamps. Each test file keeps its own
tolerance rules (they differ between model families, see their docstrings).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import brainunit as u
import numpy as np

import nestax as nx

from .nest_helpers import fresh_nest, mantissa
from .validation import record_worst


@dataclass
class Experiment:
    model: str                      # NEST / nestax model name
    dt: float                       # resolution and multimeter interval, ms
    T: float                        # simulated time, ms (one Simulate call unless ``splits``)
    params: list                    # per-neuron parameter / initial-state dicts, one per neuron
    rec: list                       # multimeter record_from
    conns: list = field(default_factory=list)   # (weight, delay[, receptor_type]) from the spike_generator
    spikes: list = field(default_factory=list)  # spike_generator spike_times
    gen: tuple | None = None        # (generator model, its params, delay) or None
    splits: list | None = None      # Simulate calls; None: [T]
    common: dict = field(default_factory=dict)  # parameters given to all neurons at creation
    nest_seed: int | None = None    # NEST rng_seed (None: NEST's default)
    nx_seed: int = 1                # nestax Simulator seed (its default: 1)

    @property
    def n(self):
        return len(self.params)

    @property
    def pieces(self):
        return list(self.splits or [self.T])


@dataclass
class Recording:
    """Multimeter samples as flat arrays (one entry per sample and neuron) and the sorted spike list."""
    steps: np.ndarray               # time stamp of each sample, in steps of dt
    senders: np.ndarray             # neuron index (0 .. n-1) of each sample
    values: dict                    # recordable -> value of each sample
    spikes: list                    # sorted [(step, neuron index), ...], one entry per spike
    events: dict | None = None      # NEST only: the multimeter's raw events
    results: list | None = None     # nestax only: the SimResult of each simulate call
    handles: tuple | None = None    # nestax only: (population, multimeter, spike_recorder)

    def column(self, var, i):
        """(steps, values) of neuron ``i``'s samples of ``var``."""
        sel = self.senders == i
        return self.steps[sel], self.values[var][sel]


def steps_of(times_ms, dt):
    return np.round(np.asarray(times_ms) / dt).astype(int)


def _connect_inputs(connect, create, exp, pop, sg_model, gen_model):
    if exp.conns:
        sg = create(sg_model, spike_times=exp.spikes)
        for c in exp.conns:
            connect(sg, pop, weight=c[0], delay=c[1], **({"receptor_type": c[2]} if len(c) > 2 else {}))
    if exp.gen is not None:
        g = create(gen_model(exp.gen[0]), **exp.gen[1])
        connect(g, pop, delay=exp.gen[2])


def run_nest(exp: Experiment) -> Recording:
    nest = fresh_nest(exp.dt, exp.nest_seed)
    pop = nest.Create(exp.model, exp.n, params=dict(exp.common)) if exp.common else nest.Create(exp.model, exp.n)
    for i, p in enumerate(exp.params):
        pop[i].set(p)
    mm = nest.Create("multimeter", params={"record_from": list(exp.rec), "interval": exp.dt})
    sr = nest.Create("spike_recorder")
    _connect_inputs(lambda a, b, **syn: nest.Connect(a, b, syn_spec=syn),
                    lambda m, **p: nest.Create(m, params=p), exp, pop, "spike_generator", lambda m: m)
    nest.Connect(mm, pop)
    nest.Connect(pop, sr)
    for piece in exp.pieces:
        nest.Simulate(piece)
    ev, g0 = mm.events, pop.tolist()[0]
    spk = sorted(zip(steps_of(sr.events["times"], exp.dt).tolist(), (sr.events["senders"] - g0).tolist()))
    return Recording(steps_of(ev["times"], exp.dt), ev["senders"] - g0, {v: ev[v] for v in exp.rec}, spk, events=ev)


def per_neuron_kwargs(cls, params):
    """nestax create() keyword arguments for per-neuron parameter / initial-state dicts: one column per
    key, a neuron without the key gets the default (a state's initial value; one given by the name of a
    parameter, e.g. V_m = E_L, is that parameter's value for the neuron). Array-valued parameters are
    taken from the first neuron (nestax has one value per population)."""
    defaults = {k: s.default for k, s in cls.parameters.items()}
    kw = {}
    for k in sorted({k for p in params for k in p}):
        spec = cls.parameters.get(k)
        if spec is not None and spec.kind == "array":
            kw[k] = params[0][k]
            continue
        if spec is None:
            init = cls.state[k].init
            col = [p.get(k, p.get(init, defaults[init]) if isinstance(init, str) else init) for p in params]
        else:
            col = [p.get(k, defaults[k]) for p in params]
        kw[k] = np.asarray(col, bool if spec is not None and spec.kind == "bool" else float)
    return kw


def run_nestax(exp: Experiment, kwargs=per_neuron_kwargs) -> Recording:
    cls = getattr(nx, exp.model)
    sim = nx.Simulator(dt=exp.dt * u.ms, seed=exp.nx_seed)
    pop = sim.create(cls, exp.n, **exp.common, **kwargs(cls, exp.params))
    mm = sim.create(nx.multimeter, record_from=list(exp.rec), interval=exp.dt)
    sr = sim.create(nx.spike_recorder)
    _connect_inputs(sim.connect, sim.create, exp, pop, nx.spike_generator, lambda m: getattr(nx, m))
    sim.connect(mm, pop)
    sim.connect(pop, sr)
    results = [sim.simulate(piece) for piece in exp.pieces]
    n, g0 = exp.n, pop.tolist()[0]
    rows = np.concatenate([steps_of(mantissa(r.trace_times(mm), u.ms), exp.dt) for r in results])
    values = {v: np.concatenate([np.asarray(mantissa(r.trace(mm, v))).reshape(-1, n) for r in results]).ravel()
              for v in exp.rec}
    spk = []
    for r in results:
        e = r.events(sr)
        spk += list(zip(steps_of(mantissa(e["times"], u.ms), exp.dt).tolist(),
                        (np.asarray(e["senders"]) - g0).tolist()))
    return Recording(np.repeat(rows, n), np.tile(np.arange(n), len(rows)), values, sorted(spk),
                     results=results, handles=(pop, mm, sr))


def run_both(exp: Experiment):
    return run_nest(exp), run_nestax(exp)


def aligned(ref: Recording, got: Recording, var, i, exp: Experiment):
    """Neuron ``i``'s samples of ``var`` at the stamps both recorded: (steps, ref values, got values).

    Every sample of ``ref`` must have its counterpart in ``got`` and cover > 90 % of the run."""
    t_ref, v_ref = ref.column(var, i)
    t_got, v_got = got.column(var, i)
    common, i_r, i_g = np.intersect1d(t_ref, t_got, return_indices=True)
    assert len(common) == len(t_ref) and len(common) > 0.9 * exp.T / exp.dt
    return common, v_ref[i_r], v_got[i_g]


def first_spike(spikes, i):
    """Step of neuron ``i``'s first spike in a (step, neuron) list; 10**9 if it never fires."""
    return min([k for k, s in spikes if s == i], default=10**9)


def compare_traces(ref: Recording, got: Recording, exp: Experiment, tol, shifted=(), label="", kind=None):
    """Every recordable of every neuron at every common stamp: ``got`` within ``tol(var) -> (atol, rtol)``
    of ``ref``. Variables in ``shifted`` are compared one sample shifted (got at stamp k+1 against ref at
    stamp k). Returns the max absolute deviation per variable. With ``kind`` ('exact' / 'integrator'),
    each variable's max deviation is recorded for docs/validation_measured.md (tests/parity/validation.py)
    against the bound it met, atol + rtol * max |ref|."""
    worst, bound = {}, {}
    for var in exp.rec:
        worst[var] = 0.0
        bound[var] = 0.0
        for i in range(exp.n):
            _, a, b = aligned(ref, got, var, i, exp)
            if var in shifted:
                a, b = a[:-1], b[1:]
            worst[var] = max(worst[var], float(np.max(np.abs(b - a))))
            atol, rtol = tol(var)
            np.testing.assert_allclose(b, a, atol=atol, rtol=rtol, err_msg=f"{label} {var} neuron {i}".strip())
            bound[var] = max(bound[var], atol + rtol * float(np.max(np.abs(a))))
    if kind is not None:
        state = getattr(getattr(nx, exp.model, None), "state", {}) or {}
        record_worst(exp.model, label if label and label != exp.model else "", worst, bound.get, kind,
                     unit=lambda v: getattr(state.get(v), "unit", None))
    return worst
