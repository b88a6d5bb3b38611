"""Rate neurons (*_rate_ipn, *_rate_opn, rate_transformer_*) and rate connections against NEST 3.10.

1. Exact parity, sigma = 0, float64: one recurrent network holding all 15 rate models, every model
   a target of rate_connection_delayed and rate_connection_instantaneous connections of both weight
   signs, with linear_summation True and False, mult_coupling on the lin models (and on tanh, where
   NEST's H is 1), rectify_output, lambda = 0, non-default nonlinearity parameters and delays of
   0.5 to 2.3 ms. NEST runs one Simulate with waveform relaxation at ``wfr_tol = 1e-12``; nestax
   runs the same network in four uneven simulate() calls. Tolerance: |nestax - NEST| <= 1e-12
   (+ 1e-12 relative) at every sample NEST records (the WFR fixed point is reached to ~1e-14).
2. Noise, 500-neuron ensembles run in NEST and in nestax (different random numbers): lin_rate_ipn
   with lambda > 0 (OU: exact discrete-time mean, variance sigma^2 / (2 lambda), lag-1
   autocovariance, transient) and lambda = 0 (random walk), lin_rate_opn's output noise (std
   sqrt(tau/dt) sigma) and its effect on a target, each within 5 standard errors (SE from the spread
   of per-neuron time averages) of theory, and nestax against NEST within 5 combined SE. Exact
   identities on each side (1e-12): every recorded rate follows from the previous one and the
   recorded noise, also for a noisy opn with mult_coupling fed by noisy neurons.
3. Errors: the connections and parameters NEST refuses are refused by nestax too (ConnectionError_,
   BadParameterError), with messages naming the model and the parameter (and
   the value where there is one).
"""
from __future__ import annotations

import functools

import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.errors import BadParameterError, ConnectionError_

from .harness import per_neuron_kwargs
from .nest_helpers import fresh_nest, import_nest, mantissa
from .validation import record as vrecord

DT = 0.1
ATOL = RTOL = 1e-12


# ------------------------------------------------------------------------------ the network
# (model, per-neuron parameters). Keys are the same on both sides; for gauss_rate_ipn the dict holds
# the Gaussian's mu/sigma and the neuron's drive/noise as mean/std. NEST reads mu and sigma into both
# the neuron and the Gaussian and then lets mean/std override the neuron's, so the same dict is the
# same experiment (checked against NEST's GetStatus in the test).
LS = "linear_summation"
MC = dict(mult_coupling=True, g_ex=0.6, g_in=1.4, theta_ex=1.5, theta_in=0.4)
BLOCKS = [
    ("lin_rate_ipn", [  # 0-2: drivers (ramps, a relaxation with delayed self-inhibition); 3-6: targets
        dict(sigma=0.0, mu=0.6, tau=10.0, **{"lambda": 0.0}),
        dict(sigma=0.0, mu=-0.4, tau=8.0, **{"lambda": 0.0}),
        dict(sigma=0.0, mu=1.0, tau=3.0),
        dict(sigma=0.0, mu=0.3, tau=4.0, g=1.3, rate=0.2),
        dict(sigma=0.0, mu=-0.1, tau=8.0, g=0.7, **{LS: False, "lambda": 0.0}),
        dict(sigma=0.0, mu=0.2, tau=5.0, g=1.2, rectify_output=True, rectify_rate=0.05, **MC),
        dict(sigma=0.0, mu=0.1, tau=6.0, g=0.9, **{LS: False, "lambda": 0.5}, **MC)]),
    ("lin_rate_opn", [
        dict(sigma=0.0, mu=0.2, tau=4.0, g=1.1),
        dict(sigma=0.0, mu=-0.2, tau=7.0, g=0.8, **{LS: False}, **MC),
        dict(sigma=0.0, mu=0.4, tau=5.0, g=1.3, rate=-0.3, **MC)]),
    ("gauss_rate_ipn", [
        dict(std=0.0, mean=0.2, mu=0.4, sigma=0.7, g=1.5, tau=4.0, rectify_output=True, rectify_rate=0.3),
        dict(std=0.0, mean=-0.3, mu=-0.2, sigma=0.5, g=0.8, tau=6.0, **{LS: False, "lambda": 0.7})]),
    ("sigmoid_rate_ipn", [
        dict(sigma=0.0, mu=-0.5, g=1.2, beta=2.5, theta=0.3, tau=5.0),
        dict(sigma=0.0, mu=0.1, g=0.9, beta=4.0, theta=-0.2, tau=3.0, **{LS: False, "lambda": 1.5})]),
    ("sigmoid_rate_gg_1998_ipn", [
        dict(sigma=0.0, mu=0.0, g=0.2, tau=4.0),
        dict(sigma=0.0, mu=0.1, g=0.3, tau=6.0, **{LS: False})]),
    ("tanh_rate_ipn", [
        dict(sigma=0.0, mu=0.2, g=1.7, theta=-0.2, tau=5.0, **{"lambda": 0.8}),
        dict(sigma=0.0, mu=-0.1, g=2.0, theta=0.1, tau=4.0, mult_coupling=True, **{LS: False})]),
    ("threshold_lin_rate_ipn", [
        dict(sigma=0.0, mu=0.05, g=1.4, theta=0.25, alpha=1.1, tau=3.0),
        dict(sigma=0.0, mu=0.5, g=0.9, theta=-0.3, alpha=0.6, tau=5.0, rectify_output=True, rectify_rate=0.3,
             **{LS: False})]),
    ("tanh_rate_opn", [
        dict(sigma=0.0, mu=0.1, g=1.5, theta=0.2, tau=4.0),
        dict(sigma=0.0, mu=-0.2, g=0.8, theta=-0.4, tau=6.0, **{LS: False})]),
    ("threshold_lin_rate_opn", [
        dict(sigma=0.0, mu=0.3, g=3.0, theta=0.1, alpha=1.5, tau=4.0),
        dict(sigma=0.0, mu=0.0, g=1.2, theta=-0.2, alpha=0.8, tau=5.0, **{LS: False})]),
    ("rate_transformer_gauss", [dict(g=1.2, mu=0.3, sigma=0.6), dict(g=0.7, mu=-0.4, sigma=0.9, **{LS: False})]),
    ("rate_transformer_lin", [dict(g=0.8), dict(g=1.3, **{LS: False})]),
    ("rate_transformer_sigmoid", [dict(g=1.1, beta=3.0, theta=0.2), dict(g=0.6, beta=1.5, theta=-0.5, **{LS: False})]),
    ("rate_transformer_sigmoid_gg_1998", [dict(g=0.25), dict(g=0.4, **{LS: False})]),
    ("rate_transformer_tanh", [dict(g=0.7, theta=0.1), dict(g=1.8, theta=-0.3, **{LS: False})]),
    ("rate_transformer_threshold_lin", [dict(g=1.5, theta=0.1, alpha=0.9),
                                        dict(g=0.8, theta=-0.2, alpha=2.0, **{LS: False})]),
]
DRIVERS = [(0, 0), (0, 1), (0, 2)]           # (block, index)
T_RUN, SPLITS = 50.0, [7.3, 0.1, 19.9, 22.7]  # nestax runs the NEST Simulate(50) in four pieces


def _nodes():
    return [(b, i) for b, (_, ps) in enumerate(BLOCKS) for i in range(len(ps))]


def _network():
    """Connections (source (block, i), target (block, j), kind, weight, delay or None). Every target
    neuron gets delayed input from the three drivers (weights +, -, random sign; delays 0.5, 1.0,
    2.3 ms) and from the block two back, and instantaneous input of both signs from every neuron of
    the previous block (a ring through all blocks)."""
    rng = np.random.default_rng(20170)
    conns = [((0, 2), (0, 2), "delayed", -1.5, 2.3)]  # the third driver's delayed self-inhibition
    targets = [n for n in _nodes() if n not in DRIVERS]
    nb = len(BLOCKS)
    for t in targets:
        b = t[0]
        for (src, sign, d) in zip(DRIVERS, (1.0, -1.0, rng.choice([-1.0, 1.0])), (0.5, 1.0, 2.3)):
            conns.append((src, t, "delayed", sign * rng.uniform(0.3, 0.9), d))
        prev = [n for n in targets if n[0] == (b - 1) % nb]
        for k, s in enumerate(prev):
            sign = 1.0 if (k + t[1]) % 2 == 0 else -1.0
            conns.append((s, t, "instantaneous", sign * rng.uniform(0.2, 0.8), None))
        back2 = [n for n in targets if n[0] == (b - 2) % nb]
        s = back2[t[1] % len(back2)]
        conns.append((s, t, "delayed", rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 0.6), float(rng.choice([1.0, 1.7]))))
    return conns


OPN = [b for b, (m, _) in enumerate(BLOCKS) if m.endswith("_opn")]
IPN = [b for b, (m, _) in enumerate(BLOCKS) if m.endswith("_ipn")]
RECORD = [("rate", list(range(len(BLOCKS)))), ("noise", IPN + OPN), ("noisy_rate", OPN)]


def _run_nest_network():
    nest = fresh_nest(DT)
    nest.wfr_tol = 1e-12
    nest.wfr_max_iterations = 1000
    pops = []
    for model, plist in BLOCKS:
        pop = nest.Create(model, len(plist))
        for i, p in enumerate(plist):
            pop[i].set(p)
        pops.append(pop)
    for (sb, si), (tb, ti), kind, w, d in _network():
        syn = {"synapse_model": "rate_connection_" + kind, "weight": w}
        if d is not None:
            syn["delay"] = d
        nest.Connect(pops[sb][si], pops[tb][ti], syn_spec=syn)
    mms = []
    for var, blocks in RECORD:
        mm = nest.Create("multimeter", params={"record_from": [var], "interval": DT})
        for b in blocks:
            nest.Connect(mm, pops[b])
        mms.append(mm)
    nest.Simulate(T_RUN)
    out = {}
    for (var, _), mm in zip(RECORD, mms):
        e = mm.events
        out[var] = _by_gid(np.round(e["times"] / DT).astype(int), e["senders"], e[var])
    return out, pops


def _run_nestax_network():
    sim = nx.Simulator(dt=DT * u.ms)
    pops = []
    for model, plist in BLOCKS:
        cls = getattr(nx, model)
        pops.append(sim.create(cls, len(plist), **per_neuron_kwargs(cls, plist)))
    for (sb, si), (tb, ti), kind, w, d in _network():
        kw = {} if d is None else {"delay": d * u.ms}
        sim.connect(pops[sb][si], pops[tb][ti], synapse_model="rate_connection_" + kind, weight=w, **kw)
    mms = []
    for var, blocks in RECORD:
        mm = sim.create(nx.multimeter, record_from=[var], interval=DT * u.ms)
        for b in blocks:
            sim.connect(mm, pops[b])
        mms.append(mm)
    results = [sim.simulate(piece * u.ms) for piece in SPLITS]
    out = {}
    for (var, _), mm in zip(RECORD, mms):
        ev = [r.events(mm) for r in results]
        out[var] = _by_gid(np.concatenate([np.round(mantissa(e["times"], u.ms) / DT).astype(int) for e in ev]),
                           np.concatenate([e["senders"] for e in ev]),
                           np.concatenate([np.asarray(mantissa(e[var])) for e in ev]))
    return out, pops, sim


def _by_gid(steps, senders, values):
    """{gid: (steps, values)} sorted by step."""
    out = {}
    for g in np.unique(senders):
        sel = senders == g
        o = np.argsort(steps[sel], kind="stable")
        out[int(g)] = (steps[sel][o], np.asarray(values[sel], float)[o])
    return out


@pytest.fixture(scope="module")
def network_runs():
    ref, nest_pops = _run_nest_network()
    got, nx_pops, sim = _run_nestax_network()
    return ref, got, nest_pops, nx_pops, sim


def test_network_covers_every_model_and_feature(network_runs):
    """The experiment is what the module docstring says: every rate model of NEST 3.10 is in it, each
    a target of delayed and instantaneous connections of both signs, with both linear_summation
    values; the gauss dict sets in NEST what it sets in nestax."""
    ref, got, nest_pops, nx_pops, sim = network_runs
    models = {m for m, _ in BLOCKS}
    nest = import_nest()
    expected = {m for m in nest.node_models if "rate" in m and m.endswith(("_ipn", "_opn"))
                or m.startswith("rate_transformer_")}
    assert models == expected and len(models) == 15
    conns = _network()
    for b, (model, plist) in enumerate(BLOCKS):
        for i in range(len(plist)):
            if (b, i) in DRIVERS:
                continue
            into = [(kind, np.sign(w)) for s, t, kind, w, d in conns if t == (b, i)]
            for kind in ("delayed", "instantaneous"):
                assert {sg for k, sg in into if k == kind} == {-1.0, 1.0}, (model, i, kind)
        assert {p.get(LS, True) for p in plist} == {True, False}, model
    assert max(d for *_, d in conns if d is not None) == 2.3
    # NEST: mu/sigma of the dict went to the Gaussian, mean/std to the neuron's drive and noise
    g = nest_pops[[m for m, _ in BLOCKS].index("gauss_rate_ipn")]
    for i, p in enumerate(BLOCKS[2][1]):
        st = g[i].get(["mu", "sigma", "mean", "std", "g"])
        assert st == {k: p[k] for k in ("mu", "sigma", "mean", "std", "g")}
    # every node varies over the run (no node is stuck at a fixed point from the start)
    for gid, (_, v) in ref["rate"].items():
        assert np.ptp(v) > 0.05, gid
    # rectify_output is active for part of the run, and only part of it, on every rectified neuron
    for b, (model, plist) in enumerate(BLOCKS):
        for i, p in enumerate(plist):
            if p.get("rectify_output"):
                v = ref["rate"][int(nest_pops[b][i].global_id)][1]
                assert v.min() == p["rectify_rate"] and 0.02 < np.mean(v == p["rectify_rate"]) < 0.9, (model, i)


def test_exact_parity_every_rate_model(network_runs):
    """rate (all nodes), noise (ipn, opn) and noisy_rate (opn) at every sample NEST records: within
    1e-12 absolute + 1e-12 relative. nestax ran in four uneven pieces, NEST in one Simulate."""
    ref, got, nest_pops, nx_pops, sim = network_runs
    worst = {}
    n_rate = sum(len(p) for _, p in BLOCKS)
    model_of = {g: m for (m, _), p in zip(BLOCKS, nest_pops) for g in p.tolist()}
    per_model = {}
    for var, blocks in RECORD:
        n_nodes = sum(len(BLOCKS[b][1]) for b in blocks)
        assert len(ref[var]) == len(got[var]) == n_nodes
        worst[var] = 0.0
        for gid, (t_ref, v_ref) in ref[var].items():
            t_got, v_got = got[var][gid]
            assert np.array_equal(t_got, np.arange(1, round(T_RUN / DT) + 1))
            common, i_r, i_g = np.intersect1d(t_ref, t_got, return_indices=True)
            assert len(common) == len(t_ref) > 0.9 * T_RUN / DT
            err = np.abs(v_got[i_g] - v_ref[i_r])
            worst[var] = max(worst[var], float(err.max()))
            np.testing.assert_allclose(v_got[i_g], v_ref[i_r], atol=ATOL, rtol=RTOL, err_msg=f"{var} gid {gid}")
            m = model_of[gid]
            d, b = per_model.get((m, var), (0.0, 0.0))
            per_model[(m, var)] = (max(d, float(err.max())), max(b, ATOL + RTOL * float(np.abs(v_ref[i_r]).max())))
    assert n_rate == len(ref["rate"])
    for (m, var), (d, b) in per_model.items():
        vrecord(m, f"{var} (36-node network, 4 pieces)", d, b, "exact", f"{var} max abs dev")
    d, b = max(v[0] for v in per_model.values()), max(v[1] for v in per_model.values())
    for syn in ("rate_connection_delayed", "rate_connection_instantaneous"):   # the network's couplings
        vrecord(syn, "36-node network, 4 pieces", d, b, "exact", "rate / noise of every node max abs dev")
    print("max |nestax - NEST|:", worst)


# ------------------------------------------------------------------------------ noise statistics
# Ensembles of N_ENS independent neurons per block, recorded every step. Per block: the model, its
# parameters (the same for every neuron), the recorded variables.
N_ENS, T_ENS, BURN = 500, 60.0, 20.0
W_TGT, D_TGT = 0.5, 1.0
ENS = {
    # Ornstein-Uhlenbeck: lambda > 0, exponential Euler; starts at rate 0 (transient checked too)
    "ou": ("lin_rate_ipn", {"tau": 2.0, "lambda": 2.0, "mu": 0.8, "sigma": 0.6}, ["rate", "noise"]),
    # lambda = 0: Euler-Maruyama random walk with drift
    "walk": ("lin_rate_ipn", {"tau": 10.0, "lambda": 0.0, "mu": 0.2, "sigma": 0.5}, ["rate", "noise"]),
    # output noise; starts at its fixed point mu, so its rate stays mu and only the sent value is noisy
    "opn": ("lin_rate_opn", {"tau": 4.0, "mu": 0.3, "sigma": 0.2, "rate": 0.3}, ["rate", "noise", "noisy_rate"]),
    # noiseless low-pass of the opn's sent values (one_to_one, delayed): sees the output noise
    "tgt": ("lin_rate_ipn", {"tau": 1.0, "lambda": 1.0, "mu": 0.0, "sigma": 0.0}, ["rate"]),
    # noisy opn with multiplicative coupling, driven by "ou" (instantaneous, excitatory) and "walk"
    # (delayed, inhibitory): H_ex and H_in are taken at the noisy rate
    "opn_mc": ("lin_rate_opn", {"tau": 3.0, "mu": 0.1, "sigma": 0.05, "g": 1.2, "mult_coupling": True,
                                "g_ex": 0.8, "g_in": 1.5, "theta_ex": 1.2, "theta_in": 0.3}, ["rate", "noisy_rate"]),
}
W_MC, D_MC = (0.7, -0.4), 1.0


def _matrix(steps, senders, values, gids):
    """(stamps, values[n_stamps, n]) from a multimeter's flat events, columns in ``gids`` order."""
    stamps = np.unique(steps)
    col = {int(g): j for j, g in enumerate(gids)}
    m = np.full((len(stamps), len(gids)), np.nan)
    m[np.searchsorted(stamps, steps), [col[int(s)] for s in senders]] = values
    assert not np.isnan(m).any()
    return stamps, m


def _run_ensembles(side, seed=12):
    if side == "nest":
        nest = fresh_nest(DT, seed=seed)
        create = lambda m, n, p: nest.Create(m, n, params=p)  # noqa: E731

        def connect(a, b, **syn):
            nest.Connect(a, b, {"rule": "one_to_one"}, syn_spec=syn)
        mm_of = lambda rec: nest.Create("multimeter", params={"record_from": rec, "interval": DT})  # noqa: E731
        rec_connect = nest.Connect
    else:
        sim = nx.Simulator(dt=DT * u.ms, seed=seed)
        create = lambda m, n, p: sim.create(m, n, **p)  # noqa: E731

        def connect(a, b, **syn):
            sim.connect(a, b, rule="one_to_one", **syn)
        mm_of = lambda rec: sim.create(nx.multimeter, record_from=rec, interval=DT * u.ms)  # noqa: E731
        rec_connect = sim.connect
    pops = {k: create(m, N_ENS, dict(p)) for k, (m, p, _) in ENS.items()}
    connect(pops["opn"], pops["tgt"], synapse_model="rate_connection_delayed", weight=W_TGT, delay=D_TGT)
    connect(pops["ou"], pops["opn_mc"], synapse_model="rate_connection_instantaneous", weight=W_MC[0])
    connect(pops["walk"], pops["opn_mc"], synapse_model="rate_connection_delayed", weight=W_MC[1], delay=D_MC)
    mms = {}
    for k, (_, _, rec) in ENS.items():
        mms[k] = mm_of(rec)
        rec_connect(mms[k], pops[k])
    if side == "nest":
        nest.Simulate(T_ENS)
        evs = {k: mm.events for k, mm in mms.items()}
        conv = lambda e, v: np.asarray(e[v], float)  # noqa: E731
        times = lambda e: np.asarray(e["times"])  # noqa: E731
    else:
        r = sim.simulate(T_ENS * u.ms)
        evs = {k: r.events(mm) for k, mm in mms.items()}
        conv = lambda e, v: np.asarray(mantissa(e[v]), float)  # noqa: E731
        times = lambda e: mantissa(e["times"], u.ms)  # noqa: E731
    out = {}
    for k, (_, _, rec) in ENS.items():
        e = evs[k]
        steps = np.round(times(e) / DT).astype(int)
        out[k] = {}
        for v in rec:
            stamps, out[k][v] = _matrix(steps, np.asarray(e["senders"]), conv(e, v), pops[k].tolist())
        out[k]["stamps"] = stamps
    return out


@functools.lru_cache(maxsize=None)
def _ensemble(side):
    return _run_ensembles(side)


@pytest.fixture(scope="module", params=["nest", "nestax"])
def ensembles(request):
    return request.param, _ensemble(request.param)


def _ipn_props(p):
    """NEST's propagators of rate_neuron_ipn: P1, P2, input-noise factor."""
    lam, x = p["lambda"], p["lambda"] * DT / p["tau"]
    if lam > 0:
        return np.exp(-x), -np.expm1(-x) / lam, np.sqrt(-0.5 * np.expm1(-2.0 * x) / lam)
    return 1.0, DT / p["tau"], np.sqrt(DT / p["tau"])


def _check_mean(samples, expected, what, k=5.0):
    """The mean of independent ``samples`` (one per neuron) is ``expected`` within k standard errors."""
    s = np.asarray(samples, float)
    se = s.std(ddof=1) / np.sqrt(len(s))
    assert abs(s.mean() - expected) <= k * se, f"{what}: {s.mean():.5g} vs theory {expected:.5g} (se {se:.2g})"
    return s.mean(), se


def _check_white(noise, sigma, what):
    """noise = sigma x standard normal, independent between steps: per neuron, the time averages of
    z, z^2 and z_k z_(k+1) (z = noise / sigma) are 0, 1 and 0 within 5 SE across neurons."""
    z = noise / sigma
    _check_mean(z.mean(axis=0), 0.0, f"{what} mean")
    _check_mean((z ** 2).mean(axis=0), 1.0, f"{what} variance / sigma^2")
    _check_mean((z[1:] * z[:-1]).mean(axis=0), 0.0, f"{what} lag-1 correlation")


def test_ipn_noise_enters_as_recorded(ensembles):
    """rate(s) = P1 rate(s-1) + P2 mu + N noise(s) at every stamp s of every neuron (to 1e-12, the
    recorded noise is the one that drove the step), for lambda > 0 and lambda = 0."""
    side, ens = ensembles
    for k in ("ou", "walk"):
        p = ENS[k][1]
        P1, P2, Nf = _ipn_props(p)
        x, noise = ens[k]["rate"], ens[k]["noise"]
        assert ens[k]["stamps"][0] == 1
        prev = np.vstack([np.zeros((1, N_ENS)), x[:-1]])  # rate(0) = 0
        np.testing.assert_allclose(x, P1 * prev + P2 * p["mu"] + Nf * noise, atol=1e-12, rtol=0, err_msg=f"{side} {k}")
        _check_white(noise, p["sigma"], f"{side} {k} noise")


def test_noisy_coupling_identity(ensembles):
    """The exact update of a noisy lin_rate_opn with mult_coupling, fed by the noisy "ou" neurons
    through an instantaneous connection (weight w1 > 0) and by the "walk" neurons through a delayed
    one (w2 < 0, d steps): in step s (stamp s -> s + 1)
    rate(s+1) = P1 rate(s) + P2 mu + P2 H_ex(noisy(s+1)) g w1 ou(s) + P2 H_in(noisy(s+1)) g w2 walk(s-d),
    H_ex(x) = g_ex (theta_ex - x), H_in(x) = g_in (theta_in + x), to 1e-12 at every stamp."""
    side, ens = ensembles
    p = ENS["opn_mc"][1]
    P1, P2 = np.exp(-DT / p["tau"]), -np.expm1(-DT / p["tau"])
    d = round(D_MC / DT)
    r, noisy = ens["opn_mc"]["rate"], ens["opn_mc"]["noisy_rate"]
    n = len(r)
    zeros = np.zeros((1, N_ENS))
    ou = np.vstack([zeros, ens["ou"]["rate"]])[:n]                           # ou(s), s = 0 .. n-1
    walk = np.vstack([np.zeros((d + 1, N_ENS)), ens["walk"]["rate"]])[:n]     # walk(s - d)
    prev = np.vstack([zeros, r[:-1]])
    h_ex, h_in = p["g_ex"] * (p["theta_ex"] - noisy), p["g_in"] * (p["theta_in"] + noisy)
    expected = P1 * prev + P2 * p["mu"] + P2 * h_ex * p["g"] * W_MC[0] * ou + P2 * h_in * p["g"] * W_MC[1] * walk
    np.testing.assert_allclose(r, expected, atol=1e-12, rtol=0, err_msg=side)
    # both inputs and the noise are there: |walk| ~ 1 at the end, noise std sqrt(tau/dt) sigma = 0.27
    assert np.abs(walk[-1]).mean() > 0.5 and np.abs(ou[-1]).mean() > 0.2 and np.std(noisy - prev) > 0.2


def test_ou_rate_statistics(ensembles):
    """lin_rate_ipn, lambda > 0. The exponential-Euler step X' = P1 X + P2 mu + N sigma xi has, from
    X(0) = 0, mean m (1 - P1^s) and variance v (1 - P1^(2s)) at stamp s, with m = P2 mu / (1 - P1)
    = mu / lambda and v = N^2 sigma^2 / (1 - P1^2) = sigma^2 / (2 lambda) (the OU variance, exactly:
    N^2 = (1 - P1^2) / (2 lambda)), and lag-1 autocovariance P1 v. Checked at stamp 5 across neurons
    and as per-neuron time averages after a 20 ms burn-in (10 relaxation times), within 5 SE."""
    side, ens = ensembles
    p = ENS["ou"][1]
    P1, P2, Nf = _ipn_props(p)
    m, v = p["mu"] / p["lambda"], p["sigma"] ** 2 / (2 * p["lambda"])
    assert np.isclose(P2 * p["mu"] / (1 - P1), m, rtol=1e-12)
    assert np.isclose(Nf ** 2 * p["sigma"] ** 2 / (1 - P1 ** 2), v, rtol=1e-12)
    x, stamps = ens["ou"]["rate"], ens["ou"]["stamps"]
    s = 5
    xs = x[stamps == s][0]
    ms, vs = m * (1 - P1 ** s), v * (1 - P1 ** (2 * s))
    _check_mean(xs, ms, f"{side} mean at stamp {s}")
    _check_mean((xs - ms) ** 2, vs, f"{side} variance at stamp {s}")
    st = x[stamps * DT >= BURN]
    _check_mean(st.mean(axis=0), m, f"{side} stationary mean")
    _check_mean(((st - m) ** 2).mean(axis=0), v, f"{side} stationary variance")
    _check_mean(((st[1:] - m) * (st[:-1] - m)).mean(axis=0), P1 * v, f"{side} lag-1 autocovariance")


def test_random_walk_statistics(ensembles):
    """lin_rate_ipn, lambda = 0 (Euler-Maruyama): X(s) = s (dt / tau) mu + sqrt(dt / tau) sigma (sum of
    s standard normals), so at the last stamp mean s dt mu / tau and variance s dt sigma^2 / tau."""
    side, ens = ensembles
    p = ENS["walk"][1]
    s = ens["walk"]["stamps"][-1]
    x = ens["walk"]["rate"][-1]
    mean, var = s * DT / p["tau"] * p["mu"], s * DT / p["tau"] * p["sigma"] ** 2
    _check_mean(x, mean, f"{side} walk mean at stamp {s}")
    _check_mean((x - mean) ** 2, var, f"{side} walk variance at stamp {s}")


def test_opn_output_noise(ensembles):
    """lin_rate_opn at its fixed point: rate stays mu; noisy_rate(s) = rate(s-1) + sqrt(tau/dt) noise(s)
    (to 1e-12); noise is sigma x white noise, so noisy_rate - rate(s-1) has std sqrt(tau/dt) sigma.
    A noiseless lin_rate_ipn (lambda = 1) receiving the sent values with weight w sees the noise:
    stationary mean w mu and variance P2^2 w^2 (tau/dt) sigma^2 / (1 - P1^2), lag-1 autocovariance
    P1 x that."""
    side, ens = ensembles
    p = ENS["opn"][1]
    o = ens["opn"]
    f = np.sqrt(p["tau"] / DT)
    np.testing.assert_allclose(o["rate"], p["mu"], atol=1e-12, rtol=0)
    prev = np.vstack([np.full((1, N_ENS), p["rate"]), o["rate"][:-1]])
    np.testing.assert_allclose(o["noisy_rate"], prev + f * o["noise"], atol=1e-12, rtol=0)
    _check_white(o["noise"], p["sigma"], f"{side} opn noise")
    _check_mean(((o["noisy_rate"] - prev) ** 2).mean(axis=0), (f * p["sigma"]) ** 2,
                f"{side} var(noisy_rate - rate)")
    # the target
    pt = ENS["tgt"][1]
    P1, P2, _ = _ipn_props(pt)
    m, v = W_TGT * p["mu"], P2 ** 2 * W_TGT ** 2 * f ** 2 * p["sigma"] ** 2 / (1 - P1 ** 2)
    y, stamps = ens["tgt"]["rate"], ens["tgt"]["stamps"]
    st = y[stamps * DT >= BURN]
    _check_mean(st.mean(axis=0), m, f"{side} target mean")
    _check_mean(((st - m) ** 2).mean(axis=0), v, f"{side} target variance")
    _check_mean(((st[1:] - m) * (st[:-1] - m)).mean(axis=0), P1 * v, f"{side} target lag-1 autocovariance")


def test_nestax_and_nest_ensembles_agree():
    """The same statistics straight against each other: per-neuron time averages after the burn-in,
    nestax's ensemble mean within 5 combined standard errors of NEST's."""
    a, b = _ensemble("nest"), _ensemble("nestax")

    def stats(e):
        ou, tgt, walk = (e[k]["rate"][e[k]["stamps"] * DT >= BURN] for k in ("ou", "tgt", "walk"))
        d_ou, d_t = ou - ou.mean(), tgt - tgt.mean()
        return {"ou mean": ou.mean(axis=0), "ou var": (d_ou ** 2).mean(axis=0),
                "ou lag-1": (d_ou[1:] * d_ou[:-1]).mean(axis=0), "tgt var": (d_t ** 2).mean(axis=0),
                "walk step var": (np.diff(walk, axis=0) ** 2).mean(axis=0),
                "opn noise var": (e["opn"]["noise"] ** 2).mean(axis=0)}
    sa, sb = stats(a), stats(b)
    for k in sa:
        x, y = sa[k], sb[k]
        se = np.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y))
        assert abs(x.mean() - y.mean()) <= 5 * se, f"{k}: nestax {y.mean():.5g} vs NEST {x.mean():.5g} (se {se:.2g})"


# ------------------------------------------------------------------------------ errors
def _nodes_nestax():
    sim = nx.Simulator(dt=DT * u.ms)
    return sim, {"rate": sim.create(nx.lin_rate_ipn, 2, sigma=0.0), "transformer": sim.create(nx.rate_transformer_tanh),
                 "iaf": sim.create(nx.iaf_psc_alpha), "binary": sim.create(nx.mcculloch_pitts_neuron),
                 "sr": sim.create(nx.spike_recorder), "pg": sim.create(nx.poisson_generator, rate=10.0),
                 "dc": sim.create(nx.dc_generator, amplitude=1.0)}


def _nodes_nest():
    nest = fresh_nest(DT)
    c = nest.Create
    return nest, {"rate": c("lin_rate_ipn", 2, params={"sigma": 0.0}), "transformer": c("rate_transformer_tanh"),
                  "iaf": c("iaf_psc_alpha"), "binary": c("mcculloch_pitts_neuron"), "sr": c("spike_recorder"),
                  "pg": c("poisson_generator", params={"rate": 10.0}),
                  "dc": c("dc_generator", params={"amplitude": 1.0})}


RD, RI = "rate_connection_delayed", "rate_connection_instantaneous"
CONNECT_ERRORS = [  # pre, post, syn_spec, nestax error, what its message names, NEST's error
    ("rate", "rate", {}, ConnectionError_, ["lin_rate_ipn", "static_synapse", RD, RI], "IllegalConnection"),
    ("rate", "iaf", {}, ConnectionError_, ["lin_rate_ipn", "static_synapse"], "IllegalConnection"),
    ("iaf", "rate", {}, ConnectionError_, ["lin_rate_ipn", "static_synapse"], "IllegalConnection"),
    ("pg", "rate", {}, ConnectionError_, ["lin_rate_ipn", "static_synapse"], "IllegalConnection"),
    ("dc", "rate", {}, ConnectionError_, ["lin_rate_ipn"], "IllegalConnection"),
    ("rate", "iaf", {"synapse_model": RD}, ConnectionError_, [RD, "iaf_psc_alpha", "not a rate neuron"],
     "IllegalConnection"),
    ("iaf", "rate", {"synapse_model": RD}, ConnectionError_, [RD, "iaf_psc_alpha", "not a rate neuron"],
     "IllegalConnection"),
    ("iaf", "rate", {"synapse_model": RI}, ConnectionError_, [RI, "iaf_psc_alpha", "not a rate neuron"],
     "IllegalConnection"),
    ("transformer", "iaf", {"synapse_model": RI}, ConnectionError_, [RI, "iaf_psc_alpha"], "IllegalConnection"),
    ("binary", "rate", {"synapse_model": RD}, ConnectionError_, [RD, "mcculloch_pitts_neuron"], "IllegalConnection"),
    ("rate", "sr", {}, ConnectionError_, ["lin_rate_ipn", "multimeter", "'rate'"], "IllegalConnection"),
    ("rate", "rate", {"synapse_model": RI, "delay": 1.0}, BadParameterError, [RI, "has no delay", "1.0", "rate_connection_delayed"], "BadProperty"),
    ("rate", "rate", {"synapse_model": RD, "receptor_type": 1}, ConnectionError_, ["lin_rate_ipn", "receptor_type 1"],
     "UnknownReceptorType"),
]


def _case_id(pre, post, syn, *_):
    extra = [k for k in syn if k != "synapse_model"]
    return "-".join([pre, post, syn.get("synapse_model", "static_synapse")] + extra)


@pytest.mark.parametrize("pre,post,syn,err,names,nest_err", CONNECT_ERRORS, ids=[_case_id(*c) for c in CONNECT_ERRORS])
def test_connection_errors(pre, post, syn, err, names, nest_err):
    """Rate neurons talk to rate neurons only, through the two rate connections; NEST refuses the same."""
    nest, n = _nodes_nest()
    with pytest.raises(getattr(nest.NESTErrors, nest_err)):
        nest.Connect(n[pre], n[post], syn_spec=dict(syn) or None)
    sim, n = _nodes_nestax()
    with pytest.raises(err) as ei:
        sim.connect(n[pre], n[post], syn_spec=dict(syn) or None)
    for word in names:
        assert word in str(ei.value), (word, str(ei.value))
    # also with the keyword form
    with pytest.raises(err):
        sim.connect(n[pre], n[post], **syn)


PARAM_ERRORS = [  # model, bad parameter, bad value
    ("lin_rate_ipn", "tau", 0.0), ("lin_rate_ipn", "tau", -2.0), ("tanh_rate_opn", "tau", -1.0),
    ("gauss_rate_ipn", "tau", 0.0),
    ("lin_rate_ipn", "lambda", -0.1), ("sigmoid_rate_gg_1998_ipn", "lambda", -3.0),
    ("sigmoid_rate_ipn", "sigma", -0.3), ("threshold_lin_rate_opn", "sigma", -0.5), ("gauss_rate_ipn", "std", -0.3),
    ("tanh_rate_ipn", "rectify_rate", -0.2), ("threshold_lin_rate_ipn", "rectify_rate", -1.0),
]


@pytest.mark.parametrize("model,name,value", PARAM_ERRORS, ids=[f"{m}-{k}={v}" for m, k, v in PARAM_ERRORS])
def test_parameter_errors(model, name, value):
    """tau <= 0, lambda < 0, sigma (gauss: std) < 0, rectify_rate < 0: refused at create and at set,
    naming model, parameter and value (for per-neuron values, the bad one), the nodes unchanged after
    a refused set; NEST refuses the same."""
    nest = fresh_nest(DT)
    with pytest.raises(nest.NESTErrors.BadProperty):
        nest.Create(model, params={name: value})
    pop = nest.Create(model)
    with pytest.raises(nest.NESTErrors.BadProperty):
        pop.set({name: value})

    def named(ei):
        msg = str(ei.value)
        assert model in msg and f"'{name}'" in msg and repr(float(value)) in msg, msg

    sim = nx.Simulator(dt=DT * u.ms)
    with pytest.raises(BadParameterError) as ei:
        sim.create(model, 2, **{name: value})
    named(ei)
    good = 5.0 if name == "tau" else 0.5
    with pytest.raises(BadParameterError) as ei:
        sim.create(model, 3, **{name: np.array([good, value, good])})
    named(ei)
    pop = sim.create(model, 2, **{name: good})
    with pytest.raises(BadParameterError) as ei:
        sim.set(pop, **{name: value})
    named(ei)
    assert np.all(np.asarray(sim.get(pop, name, unit=False)) == good)


def test_gauss_naming_in_nest_and_nestax():
    """gauss_rate_ipn: NEST's sigma key sets the neuron's noise and the Gaussian's width together (so a
    negative sigma is refused as a noise), unless std follows; nestax's sigma is the width only and
    std the noise. Both refuse a negative noise, and both take the same dict for the same neuron."""
    nest = fresh_nest(DT)
    with pytest.raises(nest.NESTErrors.BadProperty):
        nest.Create("gauss_rate_ipn", params={"sigma": 0.5 - 1.0})
    g = nest.Create("gauss_rate_ipn", params={"sigma": 0.5, "mu": 0.2})
    assert g.get(["sigma", "mu", "std", "mean"]) == {"sigma": 0.5, "mu": 0.2, "std": 0.5, "mean": 0.2}
    sim = nx.Simulator(dt=DT * u.ms)
    g = sim.create(nx.gauss_rate_ipn, 1, sigma=0.5, mu=0.2)
    got = {k: float(np.asarray(sim.get(g, k, unit=False)).ravel()[0]) for k in ("sigma", "mu", "std", "mean")}
    assert got == {"sigma": 0.5, "mu": 0.2, "std": 1.0, "mean": 0.0}
    with pytest.raises(BadParameterError, match="gauss_rate_ipn.*'std'"):
        sim.create(nx.gauss_rate_ipn, 1, std=-0.5)


# ------------------------------------------------------------------------------ templates
# nx.rate_neuron_ipn / rate_neuron_opn / rate_transformer_node (NEST's C++ templates) by nonlinearity
NONLINEARITIES = ("gauss", "lin", "sigmoid", "sigmoid_rate_gg_1998", "tanh", "threshold_lin")


def _named(template, nl):
    """NEST's name of the template instance (None: NEST 3.10 has no such model)."""
    if template == "rate_transformer_node":
        return "rate_transformer_" + ("sigmoid_gg_1998" if nl == "sigmoid_rate_gg_1998" else nl)
    noise = template[-3:]
    if noise == "opn" and nl not in ("lin", "tanh", "threshold_lin"):
        return None
    return ("sigmoid_rate_gg_1998" if nl == "sigmoid_rate_gg_1998" else f"{nl}_rate") + "_" + noise


TEMPLATE_OF = {_named(t, nl): (t, nl) for t in ("rate_neuron_ipn", "rate_neuron_opn", "rate_transformer_node")
               for nl in NONLINEARITIES if _named(t, nl)}


def test_templates_are_the_named_models():
    assert set(TEMPLATE_OF) == {m for m, _ in BLOCKS} and len(TEMPLATE_OF) == 15
    sim = nx.Simulator(dt=DT)
    for name, (t, nl) in TEMPLATE_OF.items():
        factory = getattr(nx, t)
        assert factory(nl) is getattr(nx, name) and factory(nl).name == name
        cpp = "nonlinearities_sigmoid_rate_gg_1998" if nl == "sigmoid_rate_gg_1998" else f"nonlinearities_{nl}_rate"
        assert factory(cpp) is getattr(nx, name)                                 # NEST's class name
        spec = factory(nl, g=0.7)
        assert spec.model is getattr(nx, name) and spec.params == {"g": 0.7}
        pop = sim.create(spec, 2)
        np.testing.assert_array_equal(np.ravel(mantissa(sim.get(pop, "g"))), [0.7, 0.7])
        assert sim.create(factory(nl), 1).model == name == sim.create(name, 1).model
        # the string form: the template's name with its nonlinearity (and parameters) at create
        pop = sim.create(t, 2, nonlinearity=nl, g=0.3)
        assert pop.model == name
        np.testing.assert_array_equal(np.ravel(mantissa(sim.get(pop, "g"))), [0.3, 0.3])


def test_template_network_equals_nest_named_models(network_runs):
    """The exact-parity network again, every node created through a template instead of its name:
    the rates equal NEST's named models (same tolerance)."""
    ref = network_runs[0]
    sim = nx.Simulator(dt=DT * u.ms)
    pops = []
    for model, plist in BLOCKS:
        t, nl = TEMPLATE_OF[model]
        cls = getattr(nx, t)(nl)
        pops.append(sim.create(cls, len(plist), **per_neuron_kwargs(cls, plist)))
    for (sb, si), (tb, ti), kind, w, d in _network():
        kw = {} if d is None else {"delay": d * u.ms}
        sim.connect(pops[sb][si], pops[tb][ti], synapse_model="rate_connection_" + kind, weight=w, **kw)
    mm = sim.create(nx.multimeter, record_from=["rate"], interval=DT * u.ms)
    for p in pops:
        sim.connect(mm, p)
    e = sim.simulate(T_RUN * u.ms).events(mm)
    got = _by_gid(np.round(mantissa(e["times"], u.ms) / DT).astype(int), np.asarray(e["senders"]),
                  np.asarray(mantissa(e["rate"])))
    assert set(got) == set(ref["rate"])
    for gid, (t_ref, v_ref) in ref["rate"].items():
        t_got, v_got = got[gid]
        common, i_r, i_g = np.intersect1d(t_ref, t_got, return_indices=True)
        assert len(common) == len(t_ref)
        np.testing.assert_allclose(v_got[i_g], v_ref[i_r], atol=ATOL, rtol=RTOL, err_msg=f"gid {gid}")


@pytest.mark.parametrize("call,match", [
    (lambda: nx.rate_neuron_ipn("tanhh"), r"rate_neuron_ipn: nonlinearity 'tanhh' is unknown; expected one of .*"
                                          r"Did you mean 'tanh'\?"),
    (lambda: nx.rate_transformer_node("sigmoid_gg"), r"rate_transformer_node: nonlinearity 'sigmoid_gg' is unknown"
                                                     r".*Did you mean .*'sigmoid_gg_1998'"),
    (lambda: nx.rate_neuron_opn("gauss"), r"rate_neuron_opn: nonlinearity 'gauss' has no rate_neuron_opn model in "
                                          r"NEST 3.10 \(gauss_rate_opn does not exist\); expected one of 'lin', "
                                          r"'tanh', 'threshold_lin'"),
    (lambda: nx.rate_neuron_opn("sigmoid"), r"sigmoid_rate_opn does not exist"),
    (lambda: nx.rate_neuron_ipn(3), r"rate_neuron_ipn: nonlinearity 3 is unknown"),
], ids=["typo", "typo-transformer", "opn-gauss", "opn-sigmoid", "not-a-name"])
def test_template_errors(call, match):
    with pytest.raises(BadParameterError, match=match):
        call()


def test_template_name_is_not_a_model():
    nest = import_nest()
    assert "rate_neuron_ipn" not in nest.node_models      # NEST names only the instances
    sim = nx.Simulator(dt=DT)
    with pytest.raises(nx.UnknownModelError, match=r"'rate_neuron_ipn' is NEST's model template, not a model: "
                                                   r"give it a nonlinearity, nestax.rate_neuron_ipn\('tanh'\)"):
        sim.create("rate_neuron_ipn", 2)
    with pytest.raises(BadParameterError, match="rate_neuron_opn: nonlinearity 'gauss' has no rate_neuron_opn"):
        sim.create("rate_neuron_opn", 1, nonlinearity="gauss")
    with pytest.raises(BadParameterError, match="tau"):     # the spec's parameters are checked as create's
        sim.create(nx.rate_neuron_ipn("tanh", tau=-1.0), 1)
