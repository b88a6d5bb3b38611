"""More of NEST 3.10's own PyNEST examples (issue 13), run in NEST and through ``nestax.nest`` with only
their import lines changed (tests/pynest/harness.py), compared in the same test. Long examples are
scaled down by text substitutions, the same for both runs (listed per test); measured values are from
this 2-core machine with jax_enable_x64 (tests/conftest.py).

Deterministic parts: recorder events equal (exact-integration models to 1e-9, RKF45 models to the
tolerance stated per test). Random parts: the statistic the script computes, within a bound set from
NEST's own seed-to-seed spread (measured over several rng_seed values, stated per test)."""
from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest

from .harness import run_example

if os.environ.get("CI", "").lower() == "true":
    import nest  # noqa: F401  (in CI a missing NEST is a failure, never a skip)
else:
    nest = pytest.importorskip("nest")


def _events(g, name):
    return {k: np.asarray(v) for k, v in g[name].get("events").items()}


# ---------------------------------------------------------------------- if_curve
IF_CURVE_SUBS = [("i_mean=(400.0, 900.0, 50.0), i_std=(0.0, 600.0, 50.0)",
                  "i_mean=(400.0, 900.0, 100.0), i_std=(0.0, 600.0, 200.0)")]


def test_if_curve_gives_nests_transfer_function():
    """aeif_cond_exp (RKF45), 100 neurons, noise_generator, one kernel reset per point; the grid
    thinned from 10 x 12 to 5 x 3 points (I_mean 400..800 pA by 100, I_std 0, 200, 400 pA).

    I_std = 0 is deterministic (all 100 neurons alike): the rates are equal (0, 0, 1, 9, 17 Hz).
    With noise the rate is a spike count over 100 neurons x 1 s: NEST's seed-to-seed sd over 7 seeds is
    at most 0.14 Hz per point, so the sd of a NEST - nestax difference is 0.2 Hz; bound 0.6 Hz (3 sd).
    Measured (default seed) largest difference 0.32 Hz (18.76 vs 19.08 Hz at 800 / 400 pA), inside
    NEST's own seed range 18.76..19.11 Hz. The shelve file the script writes holds the same grid."""
    import shelve
    a = run_example("if_curve", "nest", IF_CURVE_SUBS)
    b = run_example("if_curve", "nestax", IF_CURVE_SUBS)
    ra, rb = a["transfer"].rate, b["transfer"].rate
    assert ra.shape == rb.shape == (5, 3)
    np.testing.assert_array_equal(rb[:, 0], ra[:, 0])
    np.testing.assert_array_equal(ra[:, 0], [0.0, 0.0, 1.0, 9.0, 17.0])
    assert np.max(np.abs(rb[:, 1:] - ra[:, 1:])) <= 0.6, (ra, rb)
    assert np.all(np.diff(rb, axis=0) >= 0)  # rate grows with the mean current, as NEST's
    for g in (a, b):
        with shelve.open(os.path.join(g["__tmp__"].name, "aeif_cond_exp_transfer.dat")) as dat:
            np.testing.assert_array_equal(dat["I_mean"], [400.0, 500.0, 600.0, 700.0, 800.0])
            np.testing.assert_array_equal(dat["I_std"], [0.0, 200.0, 400.0])
            np.testing.assert_array_equal(dat["rate"], g["transfer"].rate)


# ---------------------------------------------------------------------- glif_psc_neuron
def _check_glif_example(a, b, fields, n_early):
    """The glif examples: until 600 ms (before the Poisson drive) every recorded variable within 1e-9
    and the first ``n_early`` spike times equal; after it, spikes per neuron within 2. Returns the
    multimeter events (NEST's, nestax's)."""
    ma, mb = _events(a, "mm"), _events(b, "mm")
    early = ma["times"] <= 600.0
    np.testing.assert_array_equal(mb["senders"], ma["senders"])
    np.testing.assert_allclose(mb["times"], ma["times"], rtol=0, atol=1e-9)
    for f in fields:
        np.testing.assert_allclose(mb[f][early], ma[f][early], rtol=0, atol=1e-9, err_msg=f)
    sa, sb = _events(a, "sr"), _events(b, "sr")
    ea, eb = sa["times"] <= 600.0, sb["times"] <= 600.0
    assert ea.sum() == eb.sum() == n_early
    np.testing.assert_array_equal(sb["senders"][eb], sa["senders"][ea])
    np.testing.assert_allclose(sb["times"][eb], sa["times"][ea], rtol=0, atol=1e-9)
    for i in range(1, 6):
        na, nb = np.sum(sa["senders"][~ea] == i), np.sum(sb["senders"][~eb] == i)
        assert abs(int(na) - int(nb)) <= 2, (i, na, nb)
    return ma, mb


def test_glif_psc_neuron_example_matches_nest():
    """Five glif_psc neurons (levels lif .. lif_r_asc_a, exact integration, dt 0.05 ms), run unchanged:
    spike generators and a step current until 600 ms, then a 150 kHz Poisson train (via a parrot)
    600-900 ms.

    Until 600 ms everything is deterministic: all 7 recorded variables of the 5 neurons (12,000
    samples each) within 1e-9 (measured 1.1e-13) and the 116 spike times identical (5.7e-14 ms).
    After 600 ms (random): spikes per neuron, NEST [30, 44, 13, 13, 12], nestax [30, 43, 13, 12, 11];
    over 9 NEST seeds each neuron's count varies by at most 1 (lif_asc 43-44, the others 12-13 / 11-12),
    so the bound is 2 spikes. The lif neuron's mean I_syn 610-900 ms: NEST 405.4..411.2 pA over 9
    seeds (sd 1.7 pA), nestax 409.0 pA (406.7..410.1 over 4 seeds); bound 8 pA (3.3 sd of a difference)."""
    a = run_example("glif_psc_neuron", "nest")
    b = run_example("glif_psc_neuron", "nestax")
    assert a["__drawn__"] == b["__drawn__"] and len(a["__drawn__"]) == 5
    ma, mb = _check_glif_example(a, b, ("V_m", "I", "I_syn", "threshold", "threshold_spike", "threshold_voltage",
                                        "ASCurrents_sum"), 116)
    assert len(ma["times"]) == len(mb["times"]) == 5 * 19999
    late = lambda m: (m["senders"] == 1) & (m["times"] > 610.0) & (m["times"] <= 900.0)  # noqa: E731
    ia, ib = ma["I_syn"][late(ma)].mean(), mb["I_syn"][late(mb)].mean()
    assert abs(ia - ib) <= 8.0, (ia, ib)


# ---------------------------------------------------------------------- gif_cond_exp_multisynapse
def test_gif_cond_exp_multisynapse_example_matches_nest():
    """One gif_cond_exp_multisynapse (RKF45, NEST's gsl_error_tol 1e-3) gets one spike at 10 ms on an
    excitatory (1 nS, delay 1 ms) and an inhibitory (5 nS, delay 30 ms) receptor; 100 ms, nothing
    recorded. Run unchanged: the final state equal. Run again with Simulate(100) split into 100 x 1 ms
    reading V_m after each (the same substitution for both): the 100 values (-73.07..-67.71 mV) equal
    within 1e-9 mV (measured 0.0: the same RKF45 steps)."""
    a = run_example("gif_cond_exp_multisynapse", "nest")
    b = run_example("gif_cond_exp_multisynapse", "nestax")
    for k in ("V_m", "E_sfa", "I_stc"):
        assert abs(a["neuron"].get(k) - b["neuron"].get(k)) <= 1e-9, k
    assert a["neuron"].get("V_m") < -70.4  # the inhibitory conductance acted
    subs = [("nest.Simulate(100.0)",
             "vm = []\nfor _ in range(100):\n    nest.Simulate(1.0)\n    vm.append(neuron.V_m)\nvm = np.array(vm)")]
    a = run_example("gif_cond_exp_multisynapse", "nest", subs)
    b = run_example("gif_cond_exp_multisynapse", "nestax", subs)
    assert a["vm"].shape == b["vm"].shape == (100,)
    assert a["vm"].max() > -68.0 and a["vm"].min() < -73.0
    np.testing.assert_allclose(b["vm"], a["vm"], rtol=0, atol=1e-9)


# ---------------------------------------------------------------------- hpc_benchmark
HPC_SUBS = [('"scale": 1.0', '"scale": 0.1'),          # 900 E + 225 I neurons
            ('"Nrec": 1000', '"Nrec": 500'),            # the script stops if Nrec > NE
            ('CE = int(1.0 * NE / params["scale"])', 'CE = int(1.0 * NE)'),   # indegree 900 + 225, not 9000 + 2250
            ('CI = int(1.0 * NI / params["scale"])', 'CI = int(1.0 * NI)')]


def _hpc(which):
    import importlib
    g = run_example("hpc_benchmark", which, HPC_SUBS)
    k = importlib.import_module("nest" if which == "nest" else "nestax.nest")
    log = pathlib.Path(g["__tmp__"].name, "log_00.dat").read_text()
    rate = float(next(ln for ln in log.splitlines() if ln.endswith("# average rate ")).split()[2])
    counts = {m: k.GetDefaults(m)["num_connections"] for m in ("syn_ex", "syn_in", "stdp_pl_synapse_hom_hpc")}
    files = sorted(os.listdir(g["__tmp__"].name))
    return dict(rate=rate, counts=counts, n=k.num_connections, size=k.network_size, files=files,
                t=k.biological_time, delays=(k.min_delay, k.max_delay), g=g)


def test_hpc_benchmark_rates_and_connections_agree():
    """hpc_benchmark (iaf_psc_alpha, stdp_pl_synapse_hom_hpc E->E, static_synapse_hpc copies, a Poisson
    drive, the Logger writing log_00.dat, spikes to ascii files) at scale 0.1 with the indegree cut to
    NE, NI (1,127 nodes, 1.27 M connections), presim 50 + sim 250 ms as in the script.

    Connections are deterministic in number: nest.num_connections (1,267,250, recorder links included)
    and each synapse model's num_connections equal (E->E STDP 810,000; syn_ex 203,625; syn_in 253,125).
    The rate the script logs (spikes of 500 E neurons over 300 ms / (500 x 250 ms)): NEST 62.3, nestax 61.7 Hz
    at the default seed; over 8 seeds NEST gives 57.6..84.9 Hz (mean 65.0, sd 8.5 Hz: small networks with
    STDP burst), nestax 57.8..66.0 Hz over 4 seeds; bound 20 % of NEST's value (about 1.5 sd)."""
    a, b = _hpc("nest"), _hpc("nestax")
    assert a["size"] == b["size"] == 1127
    assert a["n"] == b["n"] == 1267250
    assert a["counts"] == b["counts"] == {"syn_ex": 1125 + 225 * 900, "syn_in": 1125 * 225,
                                          "stdp_pl_synapse_hom_hpc": 900 * 900}
    assert a["t"] == b["t"] == 300.0
    assert a["delays"] == b["delays"] == (1.5, 1.5)  # the recorder links have static_synapse_hpc's 1.5 ms
    assert "log_00.dat" in b["files"] and any(f.startswith("alpha_0.0513_spikes-") for f in b["files"])
    assert abs(b["rate"] - a["rate"]) <= 0.2 * a["rate"], (a["rate"], b["rate"])


# ---------------------------------------------------------------------- further examples
@pytest.mark.parametrize("name,atol,subs", [
    ("aeif_cond_beta_multisynapse", 1e-9, []),   # RKF45; V_m identical (measured 0)
    ("brette_gerstner_fig_2c", 1e-9, []),        # aeif_cond_alpha, RKF45: V_m within 2.6e-11
    ("brette_gerstner_fig_3d", 1e-9, []),        # aeif_cond_exp, RKF45: V_m within 2.7e-12
    ("precise_spiking", 1e-9, []),               # iaf_psc_exp_ps etc.: V_m 4.3e-14, spike times 1.4e-14 ms
    ("glif_psc_double_alpha_neuron", 1e-9, []),  # exact: V_m 1.4e-14, I_syn 7.1e-15
    ("intrinsic_currents_subthreshold", 1e-9, []),  # ht_neuron (RKF45): V_m 1.4e-14, currents <= 2.8e-14
    ("iaf_tum_2000_short_term_depression", 1e-9, []),    # exact: V_m 1.2e-15
    ("iaf_tum_2000_short_term_facilitation", 1e-9, []),  # exact: V_m 1.2e-14
    ("clopath_synapse_spike_pairing", 1e-9, []),  # aeif_psc_delta_clopath (RKF45): weights 3.3e-16, 2e-12
    ("gap_junctions_two_neurons", 1e-8, []),      # hh_psc_alpha_gap + waveform relaxation: V_m 5.4e-10
    ("rate_neuron_dm", 1e-9, [("for i in range(9):", "for i in range(3):")]),  # sigma = 0 row: rate 6.8e-12
])
def test_deterministic_example_matches_nest(name, atol, subs):
    """Deterministic examples, run unchanged (rate_neuron_dm: only its first row, the noiseless one):
    every recorder's events and every numeric array the script leaves equal within ``atol``, and the same
    figures drawn. iaf_tum_2000_*: the drive is tuned to reach V_th exactly, so the presynaptic spikes
    fall in NEST's step only with NEST's propagator rounding. gap_junctions_two_neurons: NEST holds back
    the last min_delay (1 ms: gap junctions have no delay) of voltmeter samples, so do we."""
    from .test_examples import _compare_all
    a, b = run_example(name, "nest", subs), run_example(name, "nestax", subs)
    assert a["__drawn__"] == b["__drawn__"], (name, a["__drawn__"], b["__drawn__"])
    assert _compare_all(a, b, atol, name) >= 2


def test_glif_cond_neuron_example_matches_nest():
    """glif_cond (RKF45, five levels, dt 0.05 ms), as glif_psc_neuron: until 600 ms (before the Poisson
    drive) all 9 recorded variables within 1e-9 (measured V_m 1.4e-14, ASCurrents_sum 5.7e-14) and the
    124 spike times identical (5.7e-14 ms); after it, spikes per neuron within 2 (NEST 245 spikes in
    all, nestax 246)."""
    a, b = run_example("glif_cond_neuron", "nest"), run_example("glif_cond_neuron", "nestax")
    assert a["__drawn__"] == b["__drawn__"]
    _check_glif_example(a, b, ("V_m", "I", "g_1", "g_2", "threshold", "threshold_spike", "threshold_voltage",
                               "ASCurrents_sum"), 124)


def test_sinusoidal_poisson_generator_example():
    """Part 1: two generators, each observed by its own multimeter and spike_recorder (one_to_one): the
    recorded rate of the second (0 + 10 kHz sin, clipped at 0 as NEST records it) equal within 1e-6 Hz
    (measured 8.1e-9), 1,990 samples. Spike counts in 200 ms, Poisson: the first generator 2,000
    expected (NEST 1,945, nestax 2,101), the second 10 kHz / pi x 0.2 s = 636.6 (NEST 625, nestax 646);
    both runs within 4 sqrt(expected). Part 3 (individual_spike_trains False): the 20 parrots repeat
    one train, in both."""
    a = run_example("sinusoidal_poisson_generator", "nest")
    b = run_example("sinusoidal_poisson_generator", "nestax")
    assert a["__drawn__"] == b["__drawn__"]
    assert a["t"].shape == b["t"].shape == (1990,)
    np.testing.assert_allclose(b["r"], a["r"], rtol=0, atol=1e-6)
    assert np.min(b["r"]) == 0.0 and np.max(b["r"]) > 9999.0
    for g in (a, b):
        assert abs(len(g["spike_times"]) - 636.6) <= 4 * np.sqrt(636.6), len(g["spike_times"])
        assert abs(int(np.sum(g["h"])) - len(g["spike_times"])) <= 0  # the histogram holds every spike
        ev = _events(g, "s")
        trains = [np.sort(ev["times"][ev["senders"] == s]) for s in np.unique(ev["senders"])]
        assert len(trains) == 20 and all(np.array_equal(t, trains[0]) for t in trains)
        assert abs(len(trains[0]) - 20.0) <= 4 * np.sqrt(20.0)


def test_gif_population_rate_agrees():
    """100 gif_psc_exp (escape noise), pairwise_bernoulli p = 0.3, 50 Poisson inputs, 2 s: the
    population's spike count. NEST 2,833 at the default seed, 2,823..2,959 over 7 seeds (sd 60); nestax
    2,825 (2,832..2,940 over 4 seeds). Bound 250 spikes (about 3 sd of a difference of two runs)."""
    a, b = run_example("gif_population", "nest"), run_example("gif_population", "nestax")
    assert a["__drawn__"] == b["__drawn__"]
    na, nb = a["spike_det"].n_events, b["spike_det"].n_events
    assert abs(na - nb) <= 250, (na, nb)


def test_gap_junctions_inhibitory_network_rate_agrees():
    """hh_psc_alpha_gap network with waveform relaxation, 200 neurons instead of 500, 201 ms instead of
    501; the gap-junction pairs come from numpy.random.seed(1) (the same in both), inhibitory
    fixed_indegree connections and initial V_m from NEST's / nestax's streams; nest.NodeCollection([id])
    as the script builds it. The rate the script computes: NEST 3.96 spikes/s at the default seed,
    4.93..5.27 over 4 more seeds (sd 0.5); nestax 4.75 (5.17 at seed 1). Bound 2 spikes/s (2.8 sd of a
    difference of two runs)."""
    subs = [("n_neuron = 500", "n_neuron = 200"), ("simtime = 501.0", "simtime = 201.0")]
    a = run_example("gap_junctions_inhibitory_network", "nest", subs)
    b = run_example("gap_junctions_inhibitory_network", "nestax", subs)
    assert a["__drawn__"] == b["__drawn__"]
    assert a["n_connection"] == b["n_connection"] == 6000
    assert abs(a["spike_rate"] - b["spike_rate"]) <= 2.0, (a["spike_rate"], b["spike_rate"])


def test_evaluate_quantal_stp_synapse_example():
    """50 trials instead of 500. The tsodyks2_synapse neuron's trial-averaged V_m (deterministic, 15,000
    samples) equal within 1e-9 (measured 1.4e-14 mV). The quantal_stp_synapse one is random; the RMS
    difference between the two averages the script computes: NEST 1.90e-5 mV at seed 12345 and
    0.94e-5..2.38e-5 over 5 more seeds (sd 0.5e-5), nestax 2.10e-5 (1.56e-5, 1.79e-5 at seeds 1, 2).
    Bound 2e-5 (about 3 sd of a difference of two runs)."""
    subs = [("n_trials = 500", "n_trials = 50")]
    a = run_example("evaluate_quantal_stp_synapse", "nest", subs)
    b = run_example("evaluate_quantal_stp_synapse", "nestax", subs)
    assert a["vm_tsyn_mean"].shape == b["vm_tsyn_mean"].shape == (15000,)
    np.testing.assert_allclose(b["vm_tsyn_mean"], a["vm_tsyn_mean"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(b["t_trial"], a["t_trial"], rtol=0, atol=1e-9)
    assert a["rms_error"] > 0 and b["rms_error"] > 0
    assert abs(a["rms_error"] - b["rms_error"]) <= 2e-5, (a["rms_error"], b["rms_error"])


def test_hh_phaseplane_example():
    """hh_psc_alpha's phase plane, scanned on an 8 x 8 grid (V step 20 mV, n step 0.1) instead of
    71 x 71, and 100 steps of the action-potential trajectory instead of 1,000. One 0.1 ms Simulate per
    point, the RKF45 step size carried between calls as in NEST (absolute error 1e-3 per step, no
    relative part). NaN at the same points in both (V = -40 mV, where NEST's rate function divides 0 by
    0); elsewhere within 1e-3 (measured 1.9e-4 mV, right after the NaN points, where the carried step
    size decides the step sequence). The trajectory within 1e-9 (measured 7.1e-14)."""
    subs = [("delta_v = 2.0", "delta_v = 20.0"), ("delta_n = 0.01", "delta_n = 0.1"),
            ("for i in range(1000):", "for i in range(100):")]
    a, b = run_example("hh_phaseplane", "nest", subs), run_example("hh_phaseplane", "nestax", subs)
    assert a["__drawn__"] == b["__drawn__"]
    x, y = a["pp_data"], b["pp_data"]
    assert x.shape == y.shape == (64, 4)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(x))
    assert np.isnan(x).any()
    np.testing.assert_allclose(y, x, rtol=0, atol=1e-3, equal_nan=True)
    np.testing.assert_allclose(b["ap"], a["ap"], rtol=0, atol=1e-9)
    assert a["m_eq"] == pytest.approx(b["m_eq"], abs=1e-12) and a["h_eq"] == pytest.approx(b["h_eq"], abs=1e-12)


def test_sinusoidal_gamma_generator_example():
    """200 ms and 100 generators per step experiment instead of 1,000 ms and 1,000. The recorded rate of
    the second generator equal within 1e-6 Hz (measured 1.8e-12). Spike counts (random, NEST's seed
    spread over 7 seeds): the order-10 generator of part 1, NEST 2,062 (2,052..2,101, sd 19), nestax
    2,095, bound 80; the last step experiment's spikes before / after its parameter change at 100 ms,
    NEST 582 / 599 (569..593 / 599..637, sd 10 / 12), nestax 576 / 618, bounds 45 / 50 (about 3 sd of a
    difference)."""
    subs = [("n = 1000\n", "n = 100\n"), ("t = 1000\n", "t = 200\n")]
    a = run_example("sinusoidal_gamma_generator", "nest", subs)
    b = run_example("sinusoidal_gamma_generator", "nestax", subs)
    assert a["__drawn__"] == b["__drawn__"]
    assert a["r"].shape == b["r"].shape == (1990,)
    np.testing.assert_allclose(b["r"], a["r"], rtol=0, atol=1e-6)
    assert abs(len(a["spike_times"]) - len(b["spike_times"])) <= 80
    ta, tb = np.asarray(a["spikes"]["times"]), np.asarray(b["spikes"]["times"])
    assert abs(int(np.sum(ta <= 100)) - int(np.sum(tb <= 100))) <= 45
    assert abs(int(np.sum(ta > 100)) - int(np.sum(tb > 100))) <= 50


def test_correlospinmatrix_detector_two_neuron_example():
    """A ginzburg_neuron driving a mcculloch_pitts_neuron, both into a correlospinmatrix_detector;
    100 s instead of 1,000 s. Theory: both are on half of the time (m_x = 0.5), zero-lag autocovariance
    m (1 - m) = 0.25. NEST's mean activities over 4 seeds 0.477..0.508 (sd 0.01): both runs within
    0.04 of 0.5 (nestax 0.494, 0.495); autocovariances at lag 0 within 0.005 of 0.25 (both 0.250);
    cross-covariance c_12 at +1 ms, NEST 0.100..0.105, nestax 0.104: within 0.012 of NEST's, and
    c_21(-1 ms) = c_12(+1 ms) in both."""
    subs = [("T = 1000000.0", "T = 100000.0")]
    a = run_example("correlospinmatrix_detector_two_neuron", "nest", subs)
    b = run_example("correlospinmatrix_detector_two_neuron", "nestax", subs)
    assert a["__drawn__"] == b["__drawn__"]
    ca, cb = a["covariance_matrix"], b["covariance_matrix"]
    assert ca.shape == cb.shape == (2, 2, 2001)
    k = 1000
    for g, c in ((a, ca), (b, cb)):
        assert np.all(np.abs(g["mean_activities"] - 0.5) <= 0.04), g["mean_activities"]
        assert abs(c[0, 0, k] - 0.25) <= 0.005 and abs(c[1, 1, k] - 0.25) <= 0.005
        assert c[0, 1, k + 10] == pytest.approx(c[1, 0, k - 10], abs=1e-12)
    assert abs(ca[0, 1, k + 10] - cb[0, 1, k + 10]) <= 0.012, (ca[0, 1, k + 10], cb[0, 1, k + 10])
