"""Decision making in a recurrent network with NMDA dynamics (after NEST's example
pynest/examples/wang_decision_making.py, the network of Wang 2002).

An excitatory population (two selective subpopulations of 15 % each and a non-selective rest) and an
inhibitory population get 2400 Hz of external Poisson input per neuron. From ``signal_start`` the two
selective subpopulations also get a time-inhomogeneous Poisson signal whose rate changes every 50 ms,
drawn from normal distributions with means mu_0 (1 +/- coherence / 100), sigma 4 Hz. Recurrent
AMPA / NMDA excitation (w_plus within a selective population) and shared inhibition make one
selective population win.

Same populations, parameters, weights, delays and generators as NEST's example (NE = 1600, NI = 400,
4000 ms, signal from 1000 ms for 1000 ms, coherences 51.2, 12.8 and 0). Differences:

- the signal rates are drawn with numpy (seeded) instead of NEST's random parameters;
- ``build_network(..., NE, NI)`` accepts smaller populations: the recurrent weights are then scaled
  by 1600 / NE (excitatory) and 400 / NI (inhibitory) so that each neuron's summed recurrent input
  keeps its mean (a scaled-down network, as tests/parity/test_wang_decision_making.py uses; the full
  size is the default here);
- ``model`` can be "iaf_bw_2001" (NEST's default in the example) or "iaf_bw_2001_exact".

    python examples/wang_decision_making.py            # full size, coherence 51.2, writes a plot
    python examples/wang_decision_making.py --small    # NE = 160, NI = 40, 1000 ms: under a minute
"""
from __future__ import annotations

import sys

import jax

jax.config.update("jax_enable_x64", True)
import brainunit as u  # noqa: E402
import numpy as np  # noqa: E402

import nestax as nx  # noqa: E402

DT = 0.1
EPOP = {"tau_GABA": 5.0, "tau_AMPA": 2.0, "tau_decay_NMDA": 100.0, "tau_rise_NMDA": 2.0, "alpha": 0.5,
        "conc_Mg2": 1.0, "g_L": 25.0, "E_L": -70.0, "E_ex": 0.0, "E_in": -70.0, "V_reset": -55.0,
        "V_th": -50.0, "C_m": 500.0, "t_ref": 2.0}
IPOP = {**EPOP, "g_L": 20.0, "C_m": 200.0, "t_ref": 1.0}
F = 0.15                       # fraction of the excitatory neurons in each selective population
W_PLUS = 1.7
W_MINUS = 1 - F * (W_PLUS - 1) / (1 - F)
DELAY = 0.5


def signal_rates(coherence, rng, signal_duration=1000.0, update_interval=50.0, mu_0=40.0, sigma=4.0):
    """Rate times (ms, relative to the signal's origin) and the rates (Hz) of the two signals."""
    n = int(signal_duration / update_interval)
    times = np.arange(0, signal_duration, update_interval)
    times[0] = 0.1
    rho = mu_0 / 100
    rates_a = rng.normal(mu_0 + rho * coherence, sigma, n)
    rates_b = rng.normal(mu_0 - rho * coherence, sigma, n)
    return times, rates_a, rates_b


def weights(NE, NI):
    """The example's conductances (nS), recurrent ones scaled for NE, NI != 1600, 400."""
    se, si = 1600 / NE, 400 / NI
    return {"AMPA_ex": 0.05 * se, "AMPA_ext_ex": 2.1, "NMDA_ex": 0.165 * se, "GABA_ex": 1.3 * si,
            "AMPA_in": 0.04 * se, "AMPA_ext_in": 1.62, "NMDA_in": 0.13 * se, "GABA_in": 1.0 * si}


def build_network(sim, coherence, rng, NE=1600, NI=400, model="iaf_bw_2001", signal_start=1000.0,
                  signal_duration=1000.0):
    """The example's network in ``sim``; returns its populations (selective1, selective2,
    nonselective, inhibitory)."""
    g = weights(NE, NI)
    times, rates_a, rates_b = signal_rates(coherence, rng, signal_duration)
    # NEST's example creates the three excitatory populations one after another; one population cut in
    # three is the same network (same ids, parameters, connections) and compiles faster
    exc = sim.create(model, NE, **EPOP)
    n_sel = int(F * NE)
    s1, s2, ns = exc[:n_sel], exc[n_sel:2 * n_sel], exc[2 * n_sel:]
    inh = sim.create(model, NI, **IPOP)
    pa, pb = (sim.create(nx.inhomogeneous_poisson_generator, origin=signal_start - 0.1, start=0.0,
                         stop=signal_duration, rate_times=times, rate_values=r) for r in (rates_a, rates_b))
    p0 = sim.create(nx.poisson_generator, rate=2400.0)

    def conn(src, tgt, w, receptor, delay=DELAY):
        sim.connect(src, tgt, rule="all_to_all", weight=w, delay=delay, receptor_type=receptor)

    def exc(src, tgt, w_ampa, w_nmda):
        conn(src, tgt, w_ampa, 1)
        conn(src, tgt, w_nmda, 3)

    conn(p0, ns + s1 + s2, g["AMPA_ext_ex"], 1, delay=0.1)
    conn(p0, inh, g["AMPA_ext_in"], 1, delay=0.1)
    conn(pa, s1, g["AMPA_ext_ex"], 1, delay=0.1)
    conn(pb, s2, g["AMPA_ext_ex"], 1, delay=0.1)
    exc(ns, s1 + s2, W_MINUS * g["AMPA_ex"], W_MINUS * g["NMDA_ex"])
    exc(ns, ns, g["AMPA_ex"], g["NMDA_ex"])
    exc(ns, inh, g["AMPA_in"], g["NMDA_in"])
    exc(s1, s1, W_PLUS * g["AMPA_ex"], W_PLUS * g["NMDA_ex"])
    exc(s2, s2, W_PLUS * g["AMPA_ex"], W_PLUS * g["NMDA_ex"])
    exc(s1, s2, W_MINUS * g["AMPA_ex"], W_MINUS * g["NMDA_ex"])
    exc(s2, s1, W_MINUS * g["AMPA_ex"], W_MINUS * g["NMDA_ex"])
    exc(s1 + s2, ns, g["AMPA_ex"], g["NMDA_ex"])
    exc(s1 + s2, inh, g["AMPA_in"], g["NMDA_in"])
    conn(inh, s1 + s2 + ns, g["GABA_ex"], 2)
    conn(inh, inh, g["GABA_in"], 2)
    return {"selective1": s1, "selective2": s2, "nonselective": ns, "inhibitory": inh}


def run_sim(coherence, seed=123, T=4000.0, **kw):
    """One run: spike steps of each population (NEST's time_in_steps) and the population sizes."""
    sim = nx.Simulator(dt=DT, seed=seed)
    pops = build_network(sim, coherence, np.random.default_rng(seed), **kw)
    recs = {k: sim.create(nx.spike_recorder) for k in pops}
    for k, pop in pops.items():
        sim.connect(pop, recs[k])
    res = sim.simulate(T)
    out = {k: np.round(np.asarray(u.get_mantissa(res.events(r)["times"])) / DT).astype(int)
           for k, r in recs.items()}
    return out, {k: len(p) for k, p in pops.items()}


def population_rates(steps, n, T, width=50.0, stride=5.0):
    """Moving-average rate (Hz) over ``width`` ms windows every ``stride`` ms (as the NEST example)."""
    t = steps * DT
    starts = np.arange(0.0, T - width + 1e-9, stride)
    counts = np.array([np.count_nonzero((t > a) & (t <= a + width)) for a in starts])
    return starts + width, counts / n / (width * 1e-3)


def main(argv):
    small = "--small" in argv
    kw = dict(NE=160, NI=40, signal_start=300.0, signal_duration=700.0) if small else {}
    T = 1000.0 if small else 4000.0
    spikes, sizes = run_sim(51.2, seed=1234, T=T, **kw)
    for k in spikes:
        print(f"{k:>13}: {len(spikes[k]) / sizes[k] / (T * 1e-3):6.2f} Hz")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(8, 4))
    for k in ("selective1", "selective2", "nonselective", "inhibitory"):
        t, r = population_rates(spikes[k], sizes[k], T)
        ax.plot(t, r, label=k)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("rate (Hz)")
    ax.legend()
    fig.savefig("wang_decision_making.png", dpi=100)


if __name__ == "__main__":
    main(sys.argv[1:])
