"""Analyse a nestax run with Elephant: firing rates, ISI CV and a cross-correlogram from res.to_neo.

Needs the optional extra ``pip install "nestax[analysis]"`` (Elephant, Neo, quantities).

The network: 40 iaf_psc_alpha neurons driven by Poisson input (excitatory and inhibitory), and two
parrot neurons that repeat a mip_generator's correlated trains (mother rate 60 Hz, copy probability
0.4: each parrot fires at 24 Hz, 9.6 Hz of it in coincidence). One spike_recorder records everyone;
a correlation_detector (delta_tau 1 ms, tau_max 20 ms) histograms the parrots' lags.

With Elephant, from ``res.to_neo(sr)`` (one neo.SpikeTrain per sender, annotated with its id):
* firing rates (elephant.statistics.mean_firing_rate),
* the coefficient of variation of the inter-spike intervals (elephant.statistics.isi, cv),
* the cross-correlogram of the two parrots (elephant.spike_train_correlation.cross_correlation_histogram
  on trains binned at the resolution, 0.1 ms), regrouped into the detector's 1 ms bins, which must
  equal nestax's correlation_detector histogram exactly (both count the same pairs).

Usage: ``python examples/elephant_analysis.py`` (about 10 s).
"""
import jax

jax.config.update("jax_enable_x64", True)
import brainunit as u  # noqa: E402
import numpy as np  # noqa: E402
import quantities as pq  # noqa: E402
from elephant.conversion import BinnedSpikeTrain  # noqa: E402
from elephant.spike_train_correlation import cross_correlation_histogram  # noqa: E402
from elephant.statistics import cv, isi, mean_firing_rate  # noqa: E402

import nestax as nx  # noqa: E402

DT, T = 0.1, 5000.0
DELTA_TAU, TAU_MAX = 1.0, 20.0


def simulate(seed=1):
    sim = nx.Simulator(dt=DT * u.ms, seed=seed)
    neurons = sim.create(nx.iaf_psc_alpha, 40)
    exc = sim.create(nx.poisson_generator, rate=9000.0 * u.Hz)
    inh = sim.create(nx.poisson_generator, rate=2000.0 * u.Hz)
    sim.connect(exc, neurons, weight=87.8 * u.pA, delay=1.5 * u.ms)
    sim.connect(inh, neurons, weight=-351.2 * u.pA, delay=1.5 * u.ms)
    # the mip_generator stops 5 ms before the end: the detector sees a neuron's spikes one min_delay
    # slice late, so spikes of the last slice would be in the recorder but not yet in the detector
    mg = sim.create(nx.mip_generator, rate=60.0 * u.Hz, p_copy=0.4, stop=(T - 5.0) * u.ms)
    parrots = sim.create(nx.parrot_neuron, 2)
    sim.connect(mg, parrots)
    sr = sim.create(nx.spike_recorder)
    sim.connect(neurons + parrots, sr)
    cd = sim.create(nx.correlation_detector, delta_tau=DELTA_TAU * u.ms, tau_max=TAU_MAX * u.ms)
    sim.connect(parrots[0], cd, receptor_type=0)
    sim.connect(parrots[1], cd, receptor_type=1)
    res = sim.simulate(T * u.ms)
    return res, sr, cd, neurons.tolist(), parrots.tolist()


def regroup(cch_counts, lags_steps, delta_tau_steps, tau_max_steps):
    """Sum a cross-correlogram at the resolution (counts at integer lags in steps) into the detector's
    bins: bin b takes the lags l with floor((l + tau_max + delta_tau/2) / delta_tau) = b."""
    n_bins = 1 + 2 * tau_max_steps // delta_tau_steps
    out = np.zeros(n_bins)
    b = np.floor((lags_steps + tau_max_steps + 0.5 * delta_tau_steps) / delta_tau_steps).astype(int)
    ok = (b >= 0) & (b < n_bins)
    np.add.at(out, b[ok], cch_counts[ok])
    return out


def analyse(res, sr, cd, neurons, parrots):
    seg = res.to_neo(sr)
    trains = {st.annotations["sender"]: st for st in seg.spiketrains}
    rates = np.array([float(mean_firing_rate(trains[g]).rescale(pq.Hz)) for g in neurons])
    cvs = np.array([float(cv(isi(trains[g]))) for g in neurons if len(trains[g]) > 2])
    # cross-correlogram of the parrots at the resolution; lag = t(parrot 1) - t(parrot 0)
    a, b = (BinnedSpikeTrain(trains[g], bin_size=DT * pq.ms) for g in parrots)
    d, tm = int(round(DELTA_TAU / DT)), int(round(TAU_MAX / DT))
    w = tm + d  # enough lags for the detector's outermost bins
    cch, lags = cross_correlation_histogram(a, b, window=[-w, w], border_correction=False, binary=False)
    counts = np.asarray(cch.magnitude, float).ravel()
    grouped = regroup(counts, np.asarray(lags), d, tm)
    return {"rates": rates, "cvs": cvs, "parrot_rates": [float(mean_firing_rate(trains[g]).rescale(pq.Hz)) for g in parrots],
            "cch": counts, "lags": np.asarray(lags), "cch_grouped": grouped, "detector": res.get(cd, "histogram")}


if __name__ == "__main__":
    out = analyse(*simulate())
    print(f"iaf_psc_alpha rates: mean {out['rates'].mean():.2f} Hz (min {out['rates'].min():.2f}, "
          f"max {out['rates'].max():.2f})")
    print(f"ISI CV: mean {out['cvs'].mean():.3f} over {len(out['cvs'])} neurons")
    print(f"parrot rates: {out['parrot_rates'][0]:.2f} Hz, {out['parrot_rates'][1]:.2f} Hz (expected 24 Hz)")
    c = len(out["detector"]) // 2
    print(f"cross-correlogram (1 ms bins, -20..20 ms): {out['cch_grouped'].astype(int).tolist()}")
    print(f"zero-lag bin {out['cch_grouped'][c]:.0f} vs mean of the others "
          f"{np.delete(out['cch_grouped'], c).mean():.1f}")
    print(f"Elephant's correlogram == nestax's correlation_detector: "
          f"{np.array_equal(out['cch_grouped'], out['detector'])}")
