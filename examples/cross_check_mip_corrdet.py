"""Auto- and cross-correlation of two spike trains: correlation_detector cross-checked by hand.

nestax's version of NEST's example ``pynest/examples/cross_check_mip_corrdet.py``. A mip_generator
(mother rate nu = 100 Hz, copy probability p_copy = 0.5) drives two parrot neurons, so each parrot
fires at nu * p_copy = 50 Hz and the two share coincident spikes at nu * p_copy**2 = 25 Hz. A
correlation_detector (tau_max = 100 ms, delta_tau = 10 ms) histograms the lags t_1 - t_0 between the
parrots' spikes; the same histogram is computed from the recorded spike trains by hand
(``corr_spikes_sorted``), and the two must agree exactly.

A time bin of width ``tbin`` is centred on the lag it represents: with lags in [-tau_max, tau_max]
the leftmost bin takes the pairs with t_1 - t_0 in [-tau_max - tbin/2, -tau_max + tbin/2), and so on.
Expected: every bin holds about (nu p_copy)^2 tbin T = 2500 pairs of independent spikes, and the
zero-lag bin about nu p_copy^2 T = 2500 coincidences on top.

(NEST's script passes the recorder's ``senders`` where it means the spike times, so its printed
cross-correlation is not the histogram; here the times are used.)

Usage: ``python examples/cross_check_mip_corrdet.py [T_ms]`` (default 100000 ms, about 40 s).
"""
import sys

import jax

jax.config.update("jax_enable_x64", True)
import brainunit as u  # noqa: E402
import numpy as np  # noqa: E402

import nestax as nx  # noqa: E402


def corr_spikes_sorted(spike1, spike2, tbin, tau_max, resolution):
    """Histogram of the lags spike2 - spike1 (both sorted, in steps) in bins of ``tbin`` ms centred on
    -tau_max .. tau_max; a bin is closed on the left and open on the right."""
    tau_max_i = int(round(tau_max / resolution))
    tbin_i = int(round(tbin / resolution))
    cross = np.zeros(int(2 * tau_max_i / tbin_i + 1))
    j0 = 0
    for spki in spike1:
        j = j0
        while j < len(spike2) and spike2[j] - spki < -tau_max_i - tbin_i / 2.0:
            j += 1
        j0 = j
        while j < len(spike2) and spike2[j] - spki < tau_max_i + tbin_i / 2.0:
            cross[int((spike2[j] - spki + tau_max_i + 0.5 * tbin_i) / tbin_i)] += 1.0
            j += 1
    return cross


def run(T=100000.0, seed=12345, resolution=0.1, tau_max=100.0, delta_tau=10.0, pc=0.5, nu=100.0):
    """The example's network; returns (detector outputs, spike steps of parrot 1 and 2)."""
    sim = nx.Simulator(dt=resolution * u.ms, seed=seed)
    mg = sim.create(nx.mip_generator, rate=nu * u.Hz, p_copy=pc)
    cd = sim.create(nx.correlation_detector, tau_max=tau_max * u.ms, delta_tau=delta_tau * u.ms)
    sr = sim.create(nx.spike_recorder, time_in_steps=True)
    pn1 = sim.create(nx.parrot_neuron)
    pn2 = sim.create(nx.parrot_neuron)
    sim.connect(mg, pn1)
    sim.connect(mg, pn2)
    sim.connect(pn1, sr)
    sim.connect(pn2, sr)
    sim.connect(pn1, cd, weight=1.0, receptor_type=0)
    sim.connect(pn2, cd, weight=1.0, receptor_type=1)
    res = sim.simulate(T * u.ms)
    ev = res.events(sr)
    times, senders = np.asarray(ev["times"]), np.asarray(ev["senders"])
    out = {k: res.get(cd, k) for k in ("n_events", "histogram", "count_histogram")}
    return out, np.sort(times[senders == pn1.tolist()[0]]), np.sort(times[senders == pn2.tolist()[0]])


if __name__ == "__main__":
    T = float(sys.argv[1]) if len(sys.argv) > 1 else 100000.0
    tau_max, delta_tau = 100.0, 10.0
    out, sp1, sp2 = run(T, tau_max=tau_max, delta_tau=delta_tau)
    n_events_1, n_events_2 = out["n_events"]
    lmbd1 = n_events_1 / (T - tau_max) * 1000.0
    lmbd2 = n_events_2 / (T - tau_max) * 1000.0
    print(f"rates: {lmbd1:.2f} Hz, {lmbd2:.2f} Hz (expected 50 Hz)")
    # the detector receives a neuron's spikes one min_delay slice (1 ms) later: the spikes of the
    # run's last slice are in the recorder but not yet in the detector
    last = int(round(T / 0.1)) - 10
    cross = corr_spikes_sorted(sp1[sp1 <= last], sp2[sp2 <= last], delta_tau, tau_max, 0.1)
    print("Crosscorrelation:")
    print(cross)
    print("Sum of crosscorrelation:")
    print(sum(cross))
    print("correlation_detector histogram:")
    print(out["histogram"])
    same = np.array_equal(cross, out["histogram"]) and np.array_equal(cross, out["count_histogram"])
    print(f"detector == hand-made histogram: {same}")
