"""The cortical microcircuit of Potjans & Diesmann (2014), run in NEST and through ``nestax.nest``.

NEST shipped it as the PyNEST example ``Potjans_2014`` up to 3.8; since 3.9 it lives in its own PyPI
package ``microcircuit`` (1.0: the same network.py / helpers.py / *_params.py, with ``bg_input_type``
'poisson' | 'dc' in place of ``poisson_input``). The package's modules run with only their ``import nest``
lines changed (harness.run_package_example), driven as its run script does (create, connect, presimulate,
simulate, evaluate: spikes to ascii files, read back by the package's helpers to per-neuron rates).

Scale: N_scaling = K_scaling = 0.1 (7,717 neurons, 3.0 M synapses, weights and DC adjusted by the
package for the missing indegree), Poisson background (the NEST example's default), 100 ms presimulation
and 500 ms measured, rng seed 55 (the package's)."""
from __future__ import annotations

import copy
import importlib
import os

import numpy as np
import pytest

from .harness import run_package_example

nest = pytest.importorskip("nest")
if os.environ.get("CI") != "true":  # in CI a missing package fails (pyproject's test extra pins it)
    pytest.importorskip("microcircuit")

SCALE, T_PRESIM, T_SIM = 0.1, 100.0, 500.0

# NEST's seed-to-seed standard deviation of each population's mean rate (Hz) at this scale and window,
# measured over 11 rng seeds (55, 1..10): L23E L23I L4E L4I L5E L5I L6E L6I. Means: 0.481 2.121 3.977
# 5.008 6.649 7.798 0.838 7.027 Hz. Different seeds give different connectivity, initial V_m and Poisson
# input, which is what separates a NEST run from a nestax run (their random streams differ).
NEST_SEED_SD = np.array([0.032, 0.070, 0.076, 0.042, 0.338, 0.098, 0.057, 0.028])


def _run(pkg):
    network = importlib.import_module(pkg.__name__ + ".network")
    net_dict = copy.deepcopy(importlib.import_module(pkg.__name__ + ".network_params").default_net_dict)
    sim_dict = copy.deepcopy(importlib.import_module(pkg.__name__ + ".sim_params").default_sim_dict)
    stim_dict = copy.deepcopy(importlib.import_module(pkg.__name__ + ".stimulus_params").default_stim_dict)
    net_dict.update(N_scaling=SCALE, K_scaling=SCALE, bg_input_type="poisson")
    sim_dict.update(t_presim=T_PRESIM, t_sim=T_SIM, local_num_threads=1, store_metadata=False,
                    print_time=False, data_path=os.path.join(os.getcwd(), "data/"))
    net = network.Network(sim_dict, net_dict, stim_dict)
    # NEST's ResetKernel keeps data_path and data_prefix, so those an earlier test set would be put in
    # front of the recorders' labels, which hold the whole path here. NEST ignores data_path = "", so
    # "/" stands for "no directory" ("/" + "/" + "/tmp/..." is the same absolute path).
    network.nest.SetKernelStatus({"data_path": "/", "data_prefix": ""})
    net.create()
    net.connect()
    net.simulate(T_PRESIM)
    net.simulate(T_SIM)
    window = np.array([T_PRESIM, T_PRESIM + T_SIM])
    net.evaluate(window, window)  # raster plot, rate<i>.dat files, box plot
    rates = [np.loadtxt(os.path.join(sim_dict["data_path"], f"rate{i}.dat")) for i in range(8)]
    return {"rates": rates, "num_connections": network.nest.num_connections,
            "files": sorted(os.listdir(sim_dict["data_path"]))}


def test_microcircuit_population_rates_agree_with_nest():
    """Per population, the mean rate over 100-600 ms: |nestax - NEST| <= 5 x NEST's seed-to-seed sd
    (= 3.5 sd of the difference of two independent runs; 8 populations: a chance failure ~0.4 %).
    Measured (seed 55, x64): NEST  0.468 2.192 3.944 4.978 6.948 7.736 0.807 7.017 Hz,
    nestax 0.456 2.134 4.022 4.964 6.792 7.755 0.806 7.031 Hz (largest: L4E, 1.0 sd).
    Over 6 seeds nestax's means are within 1.7 standard errors of NEST's 11-seed means in every
    population (L5E: 6.66 vs 6.65 Hz). Neuron counts per population and the connection count are exact."""
    a = run_package_example("microcircuit", "nest", _run)
    b = run_package_example("microcircuit", "nestax", _run)
    assert [len(r) for r in a["rates"]] == [len(r) for r in b["rates"]] == \
        [2068, 583, 2192, 548, 485, 106, 1440, 295]
    assert a["num_connections"] == b["num_connections"]
    assert a["files"] == b["files"]  # population_nodeids.dat, spike_recorder-*.dat, rate<i>.dat, plots
    ra = np.array([r.mean() for r in a["rates"]])
    rb = np.array([r.mean() for r in b["rates"]])
    assert np.all(ra > 0.3) and np.all(rb > 0.3), (ra, rb)
    z = (rb - ra) / NEST_SEED_SD
    assert np.all(np.abs(z) <= 5.0), {"nest": ra.round(3), "nestax": rb.round(3), "z": z.round(2)}


@pytest.mark.parametrize("kernel", ["nest", "nestax"])
def test_math_redraw_gives_the_truncated_distribution(kernel):
    """nest.math.redraw(normal(0, 1), min=-0.5, max=1.0) for 20,000 weights: every value inside the closed
    interval, and mean / sd those of the truncated normal (0.1546 / 0.4170, scipy.stats.truncnorm) within
    5 standard errors; the same check holds for NEST and nestax."""
    from scipy.stats import truncnorm
    k = importlib.import_module("nest" if kernel == "nest" else "nestax.nest")
    k.ResetKernel()
    k.rng_seed = 3
    pre, post = k.Create("iaf_psc_exp"), k.Create("iaf_psc_exp", 20000)
    k.Connect(pre, post, syn_spec={"weight": k.math.redraw(k.random.normal(0.0, 1.0), min=-0.5, max=1.0),
                                   "delay": k.math.redraw(k.random.normal(1.0, 0.5), min=0.05, max=np.inf)})
    c = k.GetConnections(pre, post)
    w, d = np.asarray(c.get("weight")), np.asarray(c.get("delay"))
    assert w.min() >= -0.5 and w.max() <= 1.0 and d.min() >= 0.1
    mean, sd = truncnorm.stats(-0.5, 1.0, moments="mv")
    sd = float(np.sqrt(sd))
    assert abs(w.mean() - mean) < 5 * sd / np.sqrt(len(w)), (w.mean(), mean)
    assert abs(w.std() - sd) < 5 * sd / np.sqrt(2 * len(w)), (w.std(), sd)


def test_redraw_that_never_lands_is_a_clear_error():
    import nestax.nest as k
    k.ResetKernel()
    a, b = k.Create("iaf_psc_exp"), k.Create("iaf_psc_exp", 3)
    with pytest.raises(ValueError, match="after 1000 redraws"):
        k.Connect(a, b, syn_spec={"weight": k.math.redraw(k.random.normal(0.0, 1.0), min=50.0, max=51.0)})
    with pytest.raises(TypeError, match="random parameter"):
        k.Connect(a, b, syn_spec={"weight": k.math.redraw(2.0, min=0.0, max=5.0)})
