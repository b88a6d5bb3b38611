#!/usr/bin/env python
"""The cortical microcircuit of Potjans & Diesmann (2014), built natively in nestax and in NEST.

    python benchmarks/microcircuit.py --scale 0.05 --T 200            # nestax and NEST (2 threads)
    python benchmarks/microcircuit.py --scale 0.05 --T 200 --bg dc    # DC background instead of Poisson
    python benchmarks/run.py --networks microcircuit --scale 0.05 --T 200   # the same rows in run.py's table

The network is the one of NEST's former PyNEST example ``Potjans_2014`` (now the ``microcircuit`` PyPI
package; tests/pynest/test_microcircuit.py runs that code through ``nestax.nest``), written here once
for both simulators with nestax's own API (``nx.Simulator``) and PyNEST:

- 8 populations L23E L23I L4E L4I L5E L5I L6E L6I of iaf_psc_exp (C_m 250 pF, tau_m 10 ms, E_L -65 mV,
  V_th -50 mV, V_reset -65 mV, t_ref 2 ms, tau_syn_ex = tau_syn_in = 0.5 ms), 77,169 neurons at full
  scale; V_m starts ~ N(mean_i, sd_i) per population (the example's 'optimized' values).
- Connections i <- j: fixed_total_number with K_ij = ln(1 - p_ij) / ln(1 - 1 / (N_i N_j)) synapses at
  full size (multapses and autapses allowed), ~300 M in all; weights ~ N(w_ij, 0.1 |w_ij|) redrawn
  until they keep their sign, delays ~ N(d_j, 0.5 d_j) redrawn until >= 0.05 ms (d = 1.5 ms from E,
  0.75 ms from I). w_ij is the current whose PSP peaks at 0.15 mV (E), -0.6 mV (I, g = -4), 0.3 mV for
  L4E -> L23E.
- Background: one poisson_generator per population at 8 Hz x K_ext_i (all_to_all: independent trains),
  weight w_E, delay 1.5 ms; or (``--bg dc``) the DC current 8 Hz x K_ext_i x w_E x tau_syn instead.
- ``--scale s``: N_scaling = K_scaling = s (the example's two factors): s x N_i neurons, s^2 x K_ij
  synapses (each neuron keeps s x its indegree), external indegrees s x K_ext. As in the example, the
  weights are divided by sqrt(s), and the input the missing synapses would have brought at the
  full-scale rates (0.903 2.965 4.414 5.876 7.569 8.633 1.105 7.829 Hz) comes as the DC
  tau_syn (1 - sqrt(s)) sum_j w_ij K_ij r_j (plus the same for the Poisson drive).

Every neuron is recorded (one spike_recorder); rates are per population over the measured window.
This script runs run.py's workers (one subprocess per simulator: build, warm-up simulate, timed
simulate, peak RSS) and prints per-population rates of both, the simulate-time ratio and memory per
synapse. NEST runs with os.cpu_count() threads (--threads to change).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from networks import nest_kernel  # noqa: E402

POPS = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")
FULL_N = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])
FULL_RATES = np.array([0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829])  # Hz, full network
CONN_PROBS = np.array([  # target (row) <- source (column)
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443]])
K_EXT = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])
V0_MEAN = np.array([-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43])
V0_SD = np.array([5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48])


@dataclass
class Microcircuit:
    scale: float = 1.0           # N_scaling = K_scaling
    bg: str = "poisson"          # 'poisson' | 'dc'
    C_m: float = 250.0
    tau_m: float = 10.0
    tau_syn: float = 0.5
    E_L: float = -65.0
    V_th: float = -50.0
    V_reset: float = -65.0
    t_ref: float = 2.0
    psp_e: float = 0.15          # mV
    g: float = -4.0
    w_rel_sd: float = 0.1
    d_e: float = 1.5             # ms
    d_i: float = 0.75
    d_rel_sd: float = 0.5
    bg_rate: float = 8.0         # Hz per external input
    d_poisson: float = 1.5

    # ---- sizes
    @property
    def N(self):
        return np.round(FULL_N * self.scale).astype(int)

    @property
    def n_rec(self):
        return int(self.N.sum())

    @property
    def full_K(self):
        """Synapses i <- j of the full network (the expected count of distinct pairs at p_ij)."""
        pairs = np.outer(FULL_N, FULL_N).astype(float)
        return np.log1p(-CONN_PROBS) / np.log1p(-1.0 / pairs)

    @property
    def K(self):
        return np.round(self.full_K * self.scale * self.scale).astype(int)

    @property
    def K_ext(self):
        return np.round(K_EXT * self.scale).astype(int)

    @property
    def n_synapses(self):
        """Recurrent synapses plus the Poisson background's one connection per neuron."""
        return int(self.K.sum()) + (self.n_rec if self.bg == "poisson" else 0)

    # ---- weights and currents
    @property
    def pA_per_mV(self):
        """Current amplitude of an exponential PSC whose PSP (neuron at rest) peaks at 1 mV."""
        tm, ts = self.tau_m, self.tau_syn
        t_peak = tm * ts / (tm - ts) * np.log(tm / ts)
        v_peak = tm * ts / (self.C_m * (tm - ts)) * (np.exp(-t_peak / tm) - np.exp(-t_peak / ts))
        return 1.0 / v_peak

    def _w_full(self):
        psp = np.where(np.arange(8) % 2 == 0, self.psp_e, self.g * self.psp_e) * np.ones((8, 1))
        psp[0, 2] = 2.0 * self.psp_e  # L4E -> L23E
        return psp * self.pA_per_mV, self.psp_e * self.pA_per_mV

    @property
    def weights(self):
        """(w_ij matrix, w_ext) in pA, divided by sqrt(scale) as the example does."""
        w, w_ext = self._w_full()
        return w / np.sqrt(self.scale), w_ext / np.sqrt(self.scale)

    @property
    def delays(self):
        return np.where(np.arange(8) % 2 == 0, self.d_e, self.d_i) * np.ones((8, 1))

    @property
    def I_e(self):
        """DC per population (pA): the DC background (--bg dc) and the compensation of the missing
        indegree at scale < 1 (the mean input of the full network's extra synapses)."""
        w, w_ext = self._w_full()
        q = 1e-3 * self.tau_syn  # ms -> s: charge of one PSC of 1 pA (pA s) times rate
        dc = q * self.bg_rate * K_EXT * w_ext if self.bg == "dc" else np.zeros(8)
        if self.scale != 1.0:
            rec = np.sum(w * (self.full_K / FULL_N[:, None]) * FULL_RATES, axis=1)
            dc = dc + q * (1.0 - np.sqrt(self.scale)) * rec
            if self.bg == "poisson":
                dc = dc + q * (1.0 - np.sqrt(self.scale)) * w_ext * K_EXT * self.bg_rate
        return dc

    def neuron_params(self, i):
        return {"C_m": self.C_m, "tau_m": self.tau_m, "tau_syn_ex": self.tau_syn, "tau_syn_in": self.tau_syn,
                "E_L": self.E_L, "V_th": self.V_th, "V_reset": self.V_reset, "t_ref": self.t_ref,
                "I_e": float(self.I_e[i])}

    def groups(self):
        """{population: (first global id, number)}: the populations are created first, in order."""
        first = 1 + np.concatenate([[0], np.cumsum(self.N)[:-1]])
        return {p: (int(first[i]), int(self.N[i])) for i, p in enumerate(POPS)}


def _conn_params(spec, rnd, math_redraw, i, j):
    """(weight, delay) distributions of the connections i <- j for a ``random`` module."""
    w = spec.weights[0][i, j]
    lo, hi = (0.0, np.inf) if w >= 0 else (-np.inf, 0.0)
    weight = math_redraw(rnd.normal(w, abs(w) * spec.w_rel_sd), min=lo, max=hi)
    d = spec.delays[i, j]
    delay = math_redraw(rnd.normal(d, d * spec.d_rel_sd), min=0.05, max=np.inf)
    return weight, delay


def mc_nestax(spec: Microcircuit, dt=0.1, seed=1, precision=None):
    import nestax as nx
    t0 = time.perf_counter()
    sim = nx.Simulator(dt=dt, seed=seed, precision=precision)
    pops = [sim.create(nx.iaf_psc_exp, int(spec.N[i]), **spec.neuron_params(i),
                       V_m=nx.random.normal(V0_MEAN[i], V0_SD[i])) for i in range(8)]
    sr = sim.create(nx.spike_recorder)
    if spec.bg == "poisson":
        pg = sim.create(nx.poisson_generator, 8, rate=spec.bg_rate * spec.K_ext.astype(float))
    for i in range(8):
        for j in range(8):
            if spec.K[i, j] > 0:
                w, d = _conn_params(spec, nx.random, nx.random.redraw, i, j)
                sim.connect(pops[j], pops[i], rule="fixed_total_number", N=int(spec.K[i, j]), weight=w, delay=d)
    for i in range(8):
        sim.connect(pops[i], sr)
        if spec.bg == "poisson":
            sim.connect(pg[i], pops[i], weight=spec.weights[1], delay=spec.d_poisson)
    return sim, sr, time.perf_counter() - t0


def mc_nest(spec: Microcircuit, dt=0.1, seed=1, threads=1):
    nest = nest_kernel(dt, seed, threads)
    t0 = time.perf_counter()
    pops = []
    for i in range(8):
        p = nest.Create("iaf_psc_exp", int(spec.N[i]), params=spec.neuron_params(i))
        p.set(V_m=nest.random.normal(V0_MEAN[i], V0_SD[i]))
        pops.append(p)
    sr = nest.Create("spike_recorder")
    if spec.bg == "poisson":
        pg = nest.Create("poisson_generator", 8)
        pg.rate = (spec.bg_rate * spec.K_ext.astype(float)).tolist()
    for i in range(8):
        for j in range(8):
            if spec.K[i, j] > 0:
                w, d = _conn_params(spec, nest.random, nest.math.redraw, i, j)
                nest.Connect(pops[j], pops[i], {"rule": "fixed_total_number", "N": int(spec.K[i, j])},
                             {"synapse_model": "static_synapse", "weight": w, "delay": d})
    for i in range(8):
        nest.Connect(pops[i], sr)
        if spec.bg == "poisson":
            nest.Connect(pg[i], pops[i], syn_spec={"weight": spec.weights[1], "delay": spec.d_poisson})
    return nest, sr, time.perf_counter() - t0


def synaptic_events_per_s(spec, rates):
    """Spike deliveries per biological second: sum over sources j of rate_j x the synapses j sends."""
    return float(np.sum(np.asarray(rates) * spec.K.sum(axis=0)))


def extrapolate(points):
    """Fit memory and time of one simulator over several scales and extrapolate to scale 1.

    ``points``: [(spec, row)]. Memory: peak RSS = base + bytes_per_synapse x synapses (straight line
    through the smallest and largest scale). Time: simulate s per biological s = a x neurons +
    b x synaptic events/s (least squares; events from the measured per-population rates), evaluated at
    full size with the full network's rates (FULL_RATES). Where the fit gives a negative term (timings
    of tiny networks are mostly overhead and noise), all of the largest scale's time is put on its
    synaptic events instead (b = its time / its events, a = 0)."""
    pts = sorted(points, key=lambda p: p[0].scale)
    (s0, r0), (s1, r1) = pts[0], pts[-1]
    bps = (r1["peak_rss_mb"] - r0["peak_rss_mb"]) * 2**20 / max(s1.n_synapses - s0.n_synapses, 1)
    full = Microcircuit(scale=1.0, bg=s0.bg)
    rss_full = r1["peak_rss_mb"] / 1024 + bps * (full.n_synapses - s1.n_synapses) / 2**30
    A = np.array([[s.n_rec, synaptic_events_per_s(s, [r[f"rate_{p}_hz"] for p in POPS])] for s, r in pts])
    y = np.array([r["sim_s"] / (r["T_ms"] / 1000.0) for _, r in pts])
    (a, b), *_ = np.linalg.lstsq(A, y, rcond=None)
    fit = "fit"
    if a < 0 or b < 0:
        a, b, fit = 0.0, y[-1] / A[-1, 1], "events only"
    ev_full = synaptic_events_per_s(full, FULL_RATES)
    return dict(fit=fit, bytes_per_synapse=bps, rss_full_gb=rss_full, s_per_neuron_s=a, s_per_event=b,
                events_full=ev_full, sim_full_s_per_s=a * full.n_rec + b * ev_full)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="0.05", help="N_scaling = K_scaling (default 0.05; 1 = full size: 77,169 "
                    "neurons, ~300 M synapses); several, comma-separated (0.02,0.05), add a fit of memory per "
                    "synapse and time per synaptic event, extrapolated to full size")
    ap.add_argument("--T", type=float, default=200.0, help="measured biological time in ms (default 200)")
    ap.add_argument("--warmup", type=float, default=100.0, help="warm-up simulate in ms, timed apart (100)")
    ap.add_argument("--bg", choices=("poisson", "dc"), default="poisson", help="background input (poisson)")
    ap.add_argument("--seed", type=int, default=55, help="kernel seed of both simulators (55, the example's)")
    ap.add_argument("--simulators", default="nestax,nest")
    ap.add_argument("--threads", type=int, default=0, help="NEST threads (default os.cpu_count())")
    ap.add_argument("--float32", action="store_true", help="nestax in float32 (default float64)")
    ap.add_argument("--timeout", type=float, default=3600.0)
    ap.add_argument("--keep-cache", action="store_true", help="use nestax's persistent JAX compile cache "
                    "(default: a fresh empty one, so that 'compile' is a cold compile)")
    a = ap.parse_args(argv)
    import shutil
    import tempfile
    import run  # benchmarks/run.py: its workers and their protocol
    cache = None
    if not a.keep_cache:
        cache = tempfile.mkdtemp(prefix="nestax_bench_cache_")
        os.environ["NESTAX_CACHE_DIR"] = cache
    net = "microcircuit" if a.bg == "poisson" else "microcircuit-dc"
    sims = [s.strip() for s in a.simulators.split(",") if s.strip()]
    points = {s: [] for s in sims}
    for scale in [float(x) for x in a.scale.split(",") if x.strip()]:
        args = argparse.Namespace(float32=a.float32, threads=a.threads, nestax_seed=None, seed=a.seed,
                                  scale=scale, warmup=a.warmup, timeout=a.timeout, verbose=True)
        spec = Microcircuit(scale=scale, bg=a.bg)
        print(f"# Potjans & Diesmann microcircuit, scale {scale:g}: {spec.n_rec} neurons, {int(spec.K.sum())} "
              f"recurrent synapses, {a.bg} background, dt 0.1 ms, warm-up {a.warmup:g} ms, T {a.T:g} ms, "
              f"seed {a.seed}, NEST threads {a.threads or os.cpu_count()}, "
              f"nestax {'float32' if a.float32 else 'float64'}", flush=True)
        rows = {}
        for s in sims:
            r = run.run_one(net, s, a.T, args)
            if "error" in r:
                print(f"  {s}: ERROR {r['error']}")
                continue
            rows[s] = r
            points[s].append((spec, r))
            print(f"  {s:7s} build {r['build_s']:.2f} s, compile {r['compile_s']:.2f} s, simulate {r['sim_s']:.2f} s, "
                  f"peak RSS {r['peak_rss_mb']:.0f} MB, {r['spikes']} spikes  [{r.get('info', '')}]", flush=True)
        print("rates (Hz) " + " ".join(f"{p:>7s}" for p in POPS) + "      all")
        for s, r in rows.items():
            print(f"{s:10s} " + " ".join(f"{r[f'rate_{p}_hz']:7.3f}" for p in POPS) + f"  {r['rate_hz']:7.3f}")
        if "nestax" in rows and "nest" in rows:
            x, n = rows["nestax"], rows["nest"]
            print(f"simulate nestax / NEST = {x['sim_s']:.2f} s / {n['sim_s']:.2f} s = {x['sim_s'] / n['sim_s']:.2f}; "
                  f"build {x['build_s'] / n['build_s']:.2f}; peak RSS {x['peak_rss_mb']:.0f} / "
                  f"{n['peak_rss_mb']:.0f} MB for {spec.n_synapses} synapses ({spec.n_rec} neurons)")
        print(flush=True)
    for s, pts in points.items():
        if len({p[0].scale for p in pts}) >= 2:
            e = extrapolate(pts)
            print(f"{s:7s} extrapolated: {e['bytes_per_synapse']:.0f} B per synapse (peak RSS slope) -> "
                  f"{e['rss_full_gb']:.1f} GB at scale 1; simulate {e['s_per_neuron_s'] * 1e6:.1f} us per neuron "
                  f"per biological s + {e['s_per_event'] * 1e9:.0f} ns per synaptic event -> "
                  f"{e['sim_full_s_per_s']:.0f} s per biological s at scale 1 ({e['events_full']:.2e} events/s; "
                  f"{e['fit']})")
    if cache:
        shutil.rmtree(cache, ignore_errors=True)
    return 0 if any(points.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
