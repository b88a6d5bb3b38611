"""Live NEST 3.10 parity of spin_detector: the decoded transitions (senders, times, state and their
order) must be identical to NEST's.

1. Deterministic binary networks (no randomness decides anything): binary neurons with tau_m = 1 us
   update in every 0.1 ms step; each is switched on and off by its own noise_generator window (mean 1,
   std 0 against theta 0.5), optionally followed by a second binary neuron that copies it with a delay.
   All three binary models (ginzburg with c_2 = 1 and a steep sigmoid, erfc with sigma = 0: exact
   thresholds). Random configurations per seed: windows (many coincident and same-slice transitions),
   min_delay 0.1 .. 2 ms (taken from the detector's connections, which NEST counts), the detector
   created before or after its senders (gid order decides whether a held event is released by the
   detector's update in the same slice), a sender connected once or twice (multiplicity: NEST then
   records a down transition with state 1), one run or several split simulate calls of arbitrary
   length (events held at the end of a call and decided in the next), a spike_generator among the
   senders. Compared after every call; the accumulated lists must be equal element by element.
2. Random binary networks (ginzburg, random update times): NEST's own spike_recorder trains, decoded
   by nestax's decoder (spin_decode), must give exactly NEST's spin_detector events, over several
   seeds, split calls and gid orders; and in nestax's own random network, nestax's spin_detector
   equals the decoding of nestax's spike_recorder.
3. The hold-back: a neuron that switches off in the last slice of a call, with the detector created
   first, is reported by NEST only in the next call (and decoded there); nestax reports the same.
"""
from __future__ import annotations

import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.errors import BadParameterError
from nestax.models.devices.correlation import spin_decode

from .nest_helpers import fresh_nest, mantissa
from .validation import record as vrecord

DT = 0.1
MODELS = {"mcculloch_pitts_neuron": dict(tau_m=1e-3, theta=0.5),
          "ginzburg_neuron": dict(tau_m=1e-3, theta=0.5, c_1=0.0, c_2=1.0, c_3=1000.0),
          "erfc_neuron": dict(tau_m=1e-3, theta=0.5, sigma=0.0)}


def _steps(t):
    return np.round(np.asarray(t, float) / DT).astype(np.int64)


def _run(lib, model, cfg):
    """Build the deterministic network of ``cfg`` in NEST or nestax; the detector's events
    (stamp, sender, state) accumulated after every call of cfg['runs']."""
    if lib == "nest":
        nest = fresh_nest(DT)
        mk = lambda m, k=1, **p: nest.Create(m, k, params=p)  # noqa: E731
        con = lambda a, b, **s: nest.Connect(a, b, syn_spec=s)  # noqa: E731
    else:
        sim = nx.Simulator(dt=DT)
        mk = lambda m, k=1, **p: sim.create(m, k, **p)  # noqa: E731
        con = lambda a, b, **s: sim.connect(a, b, **s)  # noqa: E731
    md = cfg["md"]
    if cfg["sd_first"]:
        sd = mk("spin_detector", **cfg.get("sd", {}))
    pop = mk(model, len(cfg["windows"]), **MODELS[model])
    for i, (t0, t1) in enumerate(cfg["windows"]):
        con(mk("noise_generator", mean=1.0, std=0.0, start=t0, stop=t1), pop[i])
    senders = pop
    if cfg["chain"]:
        b = mk(model, 2, **MODELS[model])
        con(pop[0], b[0], weight=1.0, delay=md)
        con(pop[1], b[1], weight=1.0, delay=round(md + 0.3, 1))
        senders = senders + b
    if cfg.get("gen"):
        g = mk("spike_generator", spike_times=cfg["gen"])
        senders = senders + g
    if not cfg["sd_first"]:
        sd = mk("spin_detector", **cfg.get("sd", {}))
    for _ in range(cfg["mult"]):
        con(senders, sd, delay=md)
    out, acc = [], []
    for T in cfg["runs"]:
        if lib == "nest":
            nest.Simulate(T)
            e = sd.events
            acc = list(zip(_steps(e["times"]).tolist(), np.asarray(e["senders"]).tolist(),
                           np.asarray(e["state"]).tolist()))
        else:
            e = sim.simulate(T * u.ms).events(sd)
            acc = acc + list(zip(_steps(mantissa(e["times"], u.ms)).tolist(), np.asarray(e["senders"]).tolist(),
                                 np.asarray(e["state"]).tolist()))
        out.append(list(acc))
    return out


def _config(rng):
    n = int(rng.integers(2, 7))
    windows = []
    for _ in range(n):
        t0 = round(float(rng.integers(1, 40)) * 0.5 * float(rng.choice([1.0, 0.2])) + 0.1 * int(rng.integers(0, 3)), 1)
        windows.append((t0, round(t0 + 0.3 * float(rng.integers(1, 30)), 1)))
    runs = [40.0] if rng.random() < 0.4 else [round(float(x), 1) for x in rng.uniform(0.1, 15.0, 4)]
    gen = sorted(round(float(x), 1) for x in rng.choice(np.arange(1, 300) * 0.1, 6)) if rng.random() < 0.3 else None
    return dict(windows=windows, md=float(rng.choice([0.1, 0.5, 1.0, 2.0])), runs=runs,
                sd_first=bool(rng.random() < 0.5), mult=int(rng.choice([1, 1, 2])), chain=bool(rng.random() < 0.5),
                gen=gen)


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_deterministic_networks_identical(model, seed):
    rng = np.random.default_rng(seed * 17 + len(model))
    n_tr = 0
    for _ in range(6):
        cfg = _config(rng)
        a, b = _run("nest", model, cfg), _run("nx", model, cfg)
        for k, (x, y) in enumerate(zip(a, b)):
            assert y == x, f"{model} {cfg}, after call {k}:\nNEST   {x}\nnestax {y}"
            vrecord("spin_detector", model, int(y != x), 0, "exact", "calls whose (sender, time, state) events differ")
        n_tr += len(a[-1])
    assert n_tr > 30  # the configurations do produce transitions


def test_named_cases():
    """Cases that each exercise one rule (checked against NEST, and the expected NEST output spelled
    out so that a change of either simulator shows)."""
    # two neurons switch off in the same slice (stamps 62, 64; slice 61..70): NEST drops the second
    cfg = dict(windows=[(2.0, 5.2), (2.0, 5.4)], md=1.0, runs=[20.0], sd_first=False, mult=1, chain=False)
    a = _run("nest", "mcculloch_pitts_neuron", cfg)
    assert a[-1] == [(30, 1, 1), (30, 2, 1), (62, 1, 0)]
    assert _run("nx", "mcculloch_pitts_neuron", cfg) == a
    # connected twice: each up transition twice, a down transition once, with state 1
    cfg = dict(windows=[(2.0, 5.0)], md=1.0, runs=[20.0], sd_first=False, mult=2, chain=False)
    a = _run("nest", "mcculloch_pitts_neuron", cfg)
    assert a[-1] == [(30, 1, 1), (30, 1, 1), (60, 1, 1)]
    assert _run("nx", "mcculloch_pitts_neuron", cfg) == a
    # an up transition (multiplicity 2) while a down transition is held in the same slice: NEST writes
    # the held one as down and the new one as up
    cfg = dict(windows=[(2.0, 5.1), (5.3, 9.0)], md=1.0, runs=[20.0], sd_first=False, mult=1, chain=False)
    a = _run("nest", "mcculloch_pitts_neuron", cfg)
    assert a[-1] == [(30, 1, 1), (61, 1, 0), (63, 2, 1), (100, 2, 0)]
    assert _run("nx", "mcculloch_pitts_neuron", cfg) == a


def test_held_back_until_the_next_call():
    """The detector (gid 1) updates before its senders: a down transition emitted in the last slice of
    a call is held; NEST reports it only after the next call, which decides it."""
    for runs, first, seen in (([6.0, 4.0], True, [[(30, 2, 1)], [(30, 2, 1), (60, 2, 0)]]),
                              ([5.9, 4.0], True, [[(30, 2, 1)], [(30, 2, 1), (60, 2, 0)]]),
                              ([6.5, 4.0], True, [[(30, 2, 1), (60, 2, 0)], [(30, 2, 1), (60, 2, 0)]]),
                              ([6.0, 4.0], False, [[(30, 1, 1), (60, 1, 0)], [(30, 1, 1), (60, 1, 0)]])):
        cfg = dict(windows=[(2.0, 5.0)], md=1.0, runs=runs, sd_first=first, mult=1, chain=False)
        a = _run("nest", "mcculloch_pitts_neuron", cfg)
        assert a == seen, (runs, a)
        assert _run("nx", "mcculloch_pitts_neuron", cfg) == a


def test_kept_events_and_clear():
    """NEST's accumulated events and n_events, cleared by n_events = 0 between calls; an event held at
    the clear (detector created first) is written after it, in NEST and in nestax."""
    nest = fresh_nest(DT)
    sd = nest.Create("spin_detector")
    pop = nest.Create("mcculloch_pitts_neuron", 2, params=MODELS["mcculloch_pitts_neuron"])
    for i, (a, b) in enumerate(((2.0, 5.0), (7.0, 12.0))):
        nest.Connect(nest.Create("noise_generator", params=dict(mean=1.0, std=0.0, start=a, stop=b)), pop[i])
    nest.Connect(pop, sd)
    sim = nx.Simulator(dt=DT)
    sdx = sim.create(nx.spin_detector)
    popx = sim.create(nx.mcculloch_pitts_neuron, 2, **MODELS["mcculloch_pitts_neuron"])
    for i, (a, b) in enumerate(((2.0, 5.0), (7.0, 12.0))):
        sim.connect(sim.create(nx.noise_generator, mean=1.0, std=0.0, start=a, stop=b), popx[i])
    sim.connect(popx, sdx)
    for T, clear in ((6.0, True), (4.0, False), (10.0, False)):
        nest.Simulate(T)
        sim.simulate(T * u.ms)
        e_n, e_x = sd.events, sim.get(sdx, "events")
        np.testing.assert_array_equal(_steps(mantissa(e_x["times"], u.ms)), _steps(e_n["times"]))
        np.testing.assert_array_equal(e_x["senders"], e_n["senders"])
        np.testing.assert_array_equal(e_x["state"], e_n["state"])
        assert sim.get(sdx, "n_events") == sd.n_events
        if clear:
            sd.n_events = 0
            sim.set(sdx, n_events=0)
    # the down transition at 6.0 ms was held over the clear: it is the first event after it
    assert _steps(e_n["times"]).tolist() == [60, 80, 130] and list(e_n["state"]) == [0, 1, 0]


def _nest_random(seed, sd_first, runs, md, n=12):
    nest = fresh_nest(DT, seed)
    if sd_first:
        sd = nest.Create("spin_detector")
    pop = nest.Create("ginzburg_neuron", n, params=dict(tau_m=0.5, theta=0.0, c_1=0.0, c_2=1.0, c_3=1.0))
    rng = np.random.default_rng(seed)
    drive = nest.Create("noise_generator", params=dict(mean=0.2, std=0.0))
    nest.Connect(drive, pop)
    for i in range(n):
        for j in rng.choice(n, 3, replace=False):
            nest.Connect(pop[int(j)], pop[i], syn_spec=dict(weight=float(rng.normal(0, 1.5)),
                                                            delay=round(float(md + 0.1 * rng.integers(0, 8)), 1)))
    if not sd_first:
        sd = nest.Create("spin_detector")
    sr = nest.Create("spike_recorder")
    nest.Connect(pop, sd, syn_spec=dict(delay=md))
    nest.Connect(pop, sr, syn_spec=dict(delay=md))
    got = []
    for T in runs:
        nest.Simulate(T)
        got.append((_steps(sd.events["times"]), np.asarray(sd.events["senders"]), np.asarray(sd.events["state"]),
                    _steps(sr.events["times"]), np.asarray(sr.events["senders"]), int(round(nest.biological_time / DT))))
    return got, sd.global_id


def _decode_recorder(st, snd, gid, md, calls):
    """nestax's decoder fed with a spike_recorder's trains (a local device too: same arrival order; a
    multiplicity-2 spike appears as two rows), call by call."""
    out, held, k0 = [], None, 0
    for k_end in calls:
        keep = (st > k0) & (st <= k_end)
        s, g = st[keep], snd[keep]
        # collapse consecutive rows of one sender and stamp into one spike of that multiplicity
        first = np.ones(len(s), bool)
        first[1:] = (s[1:] != s[:-1]) | (g[1:] != g[:-1])
        idx = np.nonzero(first)[0]
        mult = np.diff(np.append(idx, len(s)))
        ev = {"stamps": s[idx], "senders": g[idx], "mult": mult, "link": np.zeros(len(idx), np.int64)}
        (a, b, c), held = spin_decode(ev, gid, md, k0, k_end, held)
        out += list(zip(b.tolist(), a.tolist(), c.tolist()))
        k0 = k_end
    return out


@pytest.mark.parametrize("seed", [3, 4, 5, 6])
def test_random_network_decoding_identical(seed):
    rng = np.random.default_rng(seed)
    md = float(rng.choice([0.1, 0.5, 1.0]))
    runs = [round(float(x), 1) for x in rng.uniform(3.0, 25.0, 3)]
    for sd_first in (False, True):
        got, gid = _nest_random(seed, sd_first, runs, md)
        st_sd, snd_sd, x_sd, st_sr, snd_sr, _ = got[-1]
        assert len(st_sr) > 100
        calls = [g[-1] for g in got]
        mine = _decode_recorder(st_sr, snd_sr, gid, int(round(md / DT)), calls)
        nest_ev = list(zip(st_sd.tolist(), snd_sd.tolist(), x_sd.tolist()))
        assert mine == nest_ev, (seed, sd_first)


def test_nestax_random_network_self_consistent():
    sim = nx.Simulator(dt=DT, seed=7)
    pop = sim.create(nx.ginzburg_neuron, 12, tau_m=0.5, theta=0.0, c_1=0.0, c_2=1.0, c_3=1.0)
    sim.connect(sim.create(nx.noise_generator, mean=0.2, std=0.0), pop)
    rng = np.random.default_rng(7)
    for i in range(12):
        for j in rng.choice(12, 3, replace=False):
            sim.connect(pop[int(j)], pop[i], weight=float(rng.normal(0, 1.5)),
                        delay=round(0.5 + 0.1 * float(rng.integers(0, 8)), 1))
    sd = sim.create(nx.spin_detector)
    sr = sim.create(nx.spike_recorder)
    sim.connect(pop, sd, delay=0.5)
    sim.connect(pop, sr, delay=0.5)
    calls, k, mine, st_all, snd_all = [], 0, [], [], []
    for T in (7.3, 12.0, 0.4, 9.1):
        res = sim.simulate(T * u.ms)
        k += int(round(T / DT))
        calls.append(k)
        e = res.events(sd)
        mine += list(zip(_steps(mantissa(e["times"], u.ms)).tolist(), e["senders"].tolist(), e["state"].tolist()))
        r = res.events(sr)
        st_all.append(_steps(mantissa(r["times"], u.ms)))
        snd_all.append(np.asarray(r["senders"]))
    st, snd = np.concatenate(st_all), np.concatenate(snd_all)
    # the spike_recorder lists a step's spikes by sender; NEST's arrival order within a slice is by sender
    # first: reorder by (slice, sender, stamp)
    md = 5
    o = np.lexsort((st, snd, (st - 1) // md))
    assert len(st) > 50
    assert mine == _decode_recorder(st[o], snd[o], int(sd.tolist()[0]), md, calls)


def test_bad_input():
    sim = nx.Simulator(dt=DT)
    pop = sim.create(nx.mcculloch_pitts_neuron, 2)
    sd = sim.create(nx.spin_detector)
    with pytest.raises(BadParameterError, match="receptor_type"):
        sim.connect(pop, sd, receptor_type=1)
    with pytest.raises(BadParameterError, match="spin_detector.*stop"):
        sim.create(nx.spin_detector, start=5.0, stop=2.0)
    with pytest.raises(BadParameterError, match="spin_detector.*start"):
        sim.create(nx.spin_detector, start=0.05)
