"""Live NEST 3.10 parity of correlospinmatrix_detector: count_covariance identical to NEST's.

1. Deterministic binary networks: mcculloch_pitts neurons with tau_m = 1 us (an update in every step)
   switched on and off by noise_generator windows, pooled onto 1-3 channels at random; delta_tau
   0.1-0.5 ms, tau_max 0 .. 7 delta_tau, min_delay 0.1-2 ms, the detector created before or after its
   senders, one run or split calls; count_covariance compared (exactly, integers) after every call.
2. Random binary networks (ginzburg, random update times, random weights and delays): NEST's own
   spike_recorder trains, handed to nestax's detector (its digest, call by call, as the engine hands
   them), must reproduce NEST's count_covariance exactly; seeds and channel maps vary.
3. Bad parameters give errors naming the model and parameter; NEST refuses the same.
"""
from __future__ import annotations

import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.errors import BadParameterError
from nestax.models.devices.correlation import correlospinmatrix_detector as CSM

from .nest_helpers import fresh_nest
from .validation import record as vrecord

DT = 0.1


def _run(lib, cfg):
    if lib == "nest":
        nest = fresh_nest(DT)
        mk = lambda m, k=1, **p: nest.Create(m, k, params=p)  # noqa: E731
        con = lambda a, b, **s: nest.Connect(a, b, syn_spec=s)  # noqa: E731
    else:
        sim = nx.Simulator(dt=DT)
        mk = lambda m, k=1, **p: sim.create(m, k, **p)  # noqa: E731
        con = lambda a, b, **s: sim.connect(a, b, **s)  # noqa: E731
    if cfg["first"]:
        d = mk("correlospinmatrix_detector", N_channels=cfg["N"], **cfg["p"])
    pop = mk("mcculloch_pitts_neuron", len(cfg["windows"]), tau_m=1e-3, theta=0.5)
    for i, (t0, t1) in enumerate(cfg["windows"]):
        con(mk("noise_generator", mean=1.0, std=0.0, start=t0, stop=t1), pop[i])
    if not cfg["first"]:
        d = mk("correlospinmatrix_detector", N_channels=cfg["N"], **cfg["p"])
    for i, ch in enumerate(cfg["chan"]):
        con(pop[i], d, receptor_type=ch, delay=cfg["md"])
    out = []
    for T in cfg["runs"]:
        if lib == "nest":
            nest.Simulate(T)
            out.append(np.asarray(d.get("count_covariance")))
        else:
            out.append(sim.simulate(T * u.ms).get(d, "count_covariance"))
    return out


def _config(rng):
    n, N = int(rng.integers(2, 7)), int(rng.integers(1, 4))
    windows = []
    for _ in range(n):
        t0 = round(float(rng.integers(1, 60)) * 0.5 * float(rng.choice([1.0, 0.2])) + 0.1 * int(rng.integers(0, 3)), 1)
        windows.append((t0, round(t0 + 0.3 * float(rng.integers(1, 30)), 1)))
    D = float(rng.choice([0.1, 0.3, 0.5]))
    return dict(N=N, md=float(rng.choice([0.1, 0.5, 1.0, 2.0])), windows=windows, chan=rng.integers(0, N, n).tolist(),
                first=bool(rng.random() < 0.5), p=dict(delta_tau=D, tau_max=round(D * int(rng.integers(0, 8)), 1)),
                runs=[50.0] if rng.random() < 0.5 else [round(float(x), 1) for x in rng.uniform(0.1, 20.0, 4)])


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_deterministic_networks_identical(seed):
    rng = np.random.default_rng(100 + seed)
    total = 0
    for _ in range(6):
        cfg = _config(rng)
        a, b = _run("nest", cfg), _run("nx", cfg)
        for k, (x, y) in enumerate(zip(a, b)):
            assert y.shape == x.shape, (cfg, k)
            assert np.issubdtype(y.dtype, np.integer)
            np.testing.assert_array_equal(y, x, err_msg=f"{cfg}, after call {k}")
            vrecord("correlospinmatrix_detector", "count_covariance", int(np.sum(y != x)), 0, "exact",
                    "count_covariance entries differing from NEST's")
        total += int(a[-1].sum())
    assert total > 500  # the windows overlap: the counts are not trivially zero


def test_defaults_and_shape():
    nest = fresh_nest(DT)
    d = nest.Create("correlospinmatrix_detector")
    sim = nx.Simulator(dt=DT)
    dx = sim.create(nx.correlospinmatrix_detector)
    for k in ("delta_tau", "tau_max", "Tstart", "N_channels"):
        assert float(np.asarray(u.get_mantissa(sim.get(dx, k)))) == pytest.approx(float(d.get(k))), k
    # NEST shows Tstop = +inf as the largest double
    assert np.isinf(float(np.asarray(u.get_mantissa(sim.get(dx, "Tstop"))))) and float(d.get("Tstop")) > 1e308
    sim.set(dx, N_channels=3, tau_max=0.5)
    assert sim.get(dx, "count_covariance").shape == (3, 3, 11)


def _nest_random(seed, N, runs, md, first, n=10):
    nest = fresh_nest(DT, seed)
    rng = np.random.default_rng(seed)
    if first:
        d = nest.Create("correlospinmatrix_detector", params=dict(N_channels=N, delta_tau=0.3, tau_max=1.5))
    pop = nest.Create("ginzburg_neuron", n, params=dict(tau_m=0.5, theta=0.0, c_1=0.0, c_2=1.0, c_3=1.0))
    nest.Connect(nest.Create("noise_generator", params=dict(mean=0.2, std=0.0)), pop)
    for i in range(n):
        for j in rng.choice(n, 3, replace=False):
            nest.Connect(pop[int(j)], pop[i], syn_spec=dict(weight=float(rng.normal(0, 1.5)),
                                                            delay=round(md + 0.1 * float(rng.integers(0, 8)), 1)))
    if not first:
        d = nest.Create("correlospinmatrix_detector", params=dict(N_channels=N, delta_tau=0.3, tau_max=1.5))
    chan = rng.integers(0, N, n)
    for i in range(n):
        nest.Connect(pop[i], d, syn_spec=dict(receptor_type=int(chan[i]), delay=md))
    sr = nest.Create("spike_recorder")
    nest.Connect(pop, sr, syn_spec=dict(delay=md))
    got = []
    for T in runs:
        nest.Simulate(T)
        got.append((np.asarray(d.get("count_covariance")), int(round(nest.biological_time / DT))))
    st = np.round(np.asarray(sr.events["times"]) / DT).astype(np.int64)
    return got, st, np.asarray(sr.events["senders"]), {int(g): int(c) for g, c in zip(pop.tolist(), chan)}


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_random_network_nest_trains_identical(seed):
    """NEST's trains through nestax's detector (the spike_recorder shows an up transition as two rows,
    as the detector receives it), call by call, give NEST's counts exactly."""
    rng = np.random.default_rng(seed)
    md = float(rng.choice([0.1, 0.5, 1.0]))
    mds = int(round(md / DT))
    runs = [round(float(x), 1) for x in rng.uniform(5.0, 40.0, 3)]
    for first, N in ((False, 2), (True, 3)):
        got, st, snd, chan = _nest_random(seed, N, runs, md, first)
        assert len(st) > 200
        p = dict(N_channels=N, delta_tau=0.3, tau_max=1.5, Tstart=0.0, Tstop=np.inf)
        state, k0 = None, 0
        for cc_nest, k_end in got:
            keep = (st > k0) & (st <= k_end)
            n_ev = int(keep.sum())
            ev = {"stamps": st[keep], "senders": snd[keep], "mult": np.ones(n_ev, np.int64),
                  "device": np.zeros(n_ev, bool), "link": np.zeros(n_ev, np.int64),
                  "receptors": np.array([chan[int(g)] for g in snd[keep]], np.int64), "weight": np.ones(n_ev)}
            state = CSM.digest(ev, p, state, DT, mds, k_end)
            np.testing.assert_array_equal(state["count_covariance"], cc_nest)
            k0 = k_end
        assert cc_nest.sum() > 0


@pytest.mark.parametrize("kw, word", [(dict(N_channels=0), "N_channels"), (dict(delta_tau=0.25), "delta_tau"),
                                      (dict(delta_tau=0.2, tau_max=0.5), "tau_max"), (dict(Tstart=-1.0), "Tstart"),
                                      (dict(tau_max=-0.1), "tau_max")])
def test_bad_parameters(kw, word):
    nest = fresh_nest(DT)
    with pytest.raises(Exception):
        nest.Create("correlospinmatrix_detector", params=kw)
    sim = nx.Simulator(dt=DT)
    with pytest.raises(BadParameterError, match=f"correlospinmatrix_detector.*{word}"):
        sim.create(nx.correlospinmatrix_detector, **kw)


def test_bad_receptor():
    sim = nx.Simulator(dt=DT)
    pop = sim.create(nx.mcculloch_pitts_neuron, 2)
    d = sim.create(nx.correlospinmatrix_detector, N_channels=2)
    with pytest.raises(BadParameterError, match="receptor_type"):
        sim.connect(pop, d, receptor_type=2)
