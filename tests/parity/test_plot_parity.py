"""nx.plot against NEST and against the recorded data.

1. raster_plot's PSTH panel equals NEST 3.10's ``nest.raster_plot.from_device(sr, hist=True)`` on the
   same spikes (spike_generator trains through parrot_neurons, identical in both simulators): the
   same number of bars, x positions, widths and heights (to 1e-9), the raster dots, the y label;
   bin widths on and off the spike grid, a last spike exactly on a bin edge, repeated times.
2. nx.plot.correlation draws each detector's output: bar heights equal ``res.get(det, ...)``, bars
   centred on the bin lags (correlation_detector -tau_max..tau_max, correlomatrix 0..tau_max,
   correlospinmatrix -tau_max..tau_max) and width delta_tau; a single pair of spikes 2 ms apart
   lands in the bar at +2 ms (or -2 ms with the receptors swapped); the matrix detectors give an
   N x N grid of panels.
"""
from __future__ import annotations

import brainunit as u
import numpy as np
import pytest

import nestax as nx

from .nest_helpers import fresh_nest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

DT = 0.1
TRAINS = [[1.0, 3.3, 3.3, 7.9, 12.0, 21.0], [2.0, 6.0, 11.0, 11.0, 16.0, 26.0], [4.4, 9.9, 26.0],
          [1.0 + 0.1 * k for k in range(0, 250, 7)]]


def _bars(ax):
    return np.array([[p.get_x(), p.get_width(), p.get_height()] for p in ax.patches])


@pytest.mark.parametrize("binwidth", [5.0, 2.5, 7.3, 25.0])
def test_raster_plot_psth_equals_nest(binwidth):
    nest = fresh_nest(DT)
    sr = nest.Create("spike_recorder")
    for tr in TRAINS:
        g = nest.Create("spike_generator", params={"spike_times": tr})
        p = nest.Create("parrot_neuron")
        nest.Connect(g, p)
        nest.Connect(p, sr)
    nest.Simulate(40.0)
    import nest.raster_plot
    plt.close("all")
    nest.raster_plot.from_device(sr, hist=True, hist_binwidth=binwidth)
    ax_n = plt.gcf().axes
    bars_n = _bars(ax_n[1])
    dots_n = ax_n[0].lines[0].get_xydata()

    sim = nx.Simulator(dt=DT)
    srx = sim.create(nx.spike_recorder)
    for tr in TRAINS:
        g = sim.create(nx.spike_generator, spike_times=tr)
        p = sim.create(nx.parrot_neuron)
        sim.connect(g, p)
        sim.connect(p, srx)
    res = sim.simulate(40.0 * u.ms)
    ax_r, ax_h = nx.plot.raster_plot(res, srx, hist=True, hist_binwidth=binwidth)
    bars_x = _bars(ax_h)
    assert bars_x.shape == bars_n.shape, (bars_x.shape, bars_n.shape)
    np.testing.assert_allclose(bars_x, bars_n, rtol=0, atol=1e-9)
    # the dots: the same (time, sender) pairs (NEST lists them in arrival order)
    dots_x = ax_r.lines[0].get_xydata()
    key = lambda d: d[np.lexsort((d[:, 1], d[:, 0]))]  # noqa: E731
    np.testing.assert_allclose(key(dots_x), key(dots_n), rtol=0, atol=1e-9)
    assert ax_h.get_ylabel() == ax_n[1].get_ylabel() and ax_r.get_ylabel() == ax_n[0].get_ylabel()
    assert bars_n[:, 2].sum() > 0
    plt.close("all")


def _cd_run(model, params, sources, T=40.0):
    sim = nx.Simulator(dt=DT)
    det = sim.create(model, **params)
    for times, r in sources:
        g = sim.create(nx.spike_generator, spike_times=times)
        sim.connect(g, det, receptor_type=r)
    return sim.simulate(T * u.ms), det


def _centres(ax):
    return np.array([p.get_x() + p.get_width() / 2 for p in ax.patches])


def test_correlation_detector_histogram_plot():
    for r0, r1, lag in ((0, 1, 2.0), (1, 0, -2.0)):
        res, cd = _cd_run(nx.correlation_detector, dict(delta_tau=0.5, tau_max=5.0), [([10.0], r0), ([12.0], r1)])
        ax = nx.plot.correlation(res, cd)
        x, h = _centres(ax), np.array([p.get_height() for p in ax.patches])
        np.testing.assert_allclose(x, np.arange(-10, 11) * 0.5, atol=1e-12)
        np.testing.assert_allclose([p.get_width() for p in ax.patches], 0.5)
        np.testing.assert_array_equal(h, res.get(cd, "histogram"))
        assert h.sum() == 1 and x[np.argmax(h)] == pytest.approx(lag)
        plt.close("all")
    rng = np.random.default_rng(2)
    src = [(np.unique(np.round(rng.uniform(0.1, 35.0, 60), 1)).tolist(), r) for r in (0, 1)]
    res, cd = _cd_run(nx.correlation_detector, dict(delta_tau=0.3, tau_max=3.0), src)
    ax = nx.plot.correlation(res, cd, what="count_histogram")
    np.testing.assert_array_equal([p.get_height() for p in ax.patches], res.get(cd, "count_histogram"))
    np.testing.assert_allclose(_centres(ax), np.arange(-10, 11) * 0.3, atol=1e-12)
    assert res.get(cd, "count_histogram").sum() > 10
    plt.close("all")


def test_correlomatrix_grid_plot():
    rng = np.random.default_rng(4)
    src = [(np.unique(np.round(rng.uniform(0.1, 35.0, 50), 1)).tolist(), c) for c in (0, 1, 2)]
    res, cd = _cd_run(nx.correlomatrix_detector, dict(N_channels=3, delta_tau=0.3, tau_max=1.5), src)
    axes = nx.plot.correlation(res, cd)
    cov = res.get(cd, "covariance")
    assert axes.shape == (3, 3)
    for i in range(3):
        for j in range(3):
            np.testing.assert_array_equal([p.get_height() for p in axes[i, j].patches], cov[i, j])
            np.testing.assert_allclose(_centres(axes[i, j]), np.arange(6) * 0.3, atol=1e-12)
    assert cov.sum() > 0
    plt.close("all")


def test_correlospinmatrix_grid_plot():
    sim = nx.Simulator(dt=DT)
    pop = sim.create(nx.mcculloch_pitts_neuron, 2, tau_m=1e-3, theta=0.5)
    for i, (a, b) in enumerate(((2.0, 6.0), (3.0, 9.0))):
        sim.connect(sim.create(nx.noise_generator, mean=1.0, std=0.0, start=a, stop=b), pop[i])
    d = sim.create(nx.correlospinmatrix_detector, N_channels=2, delta_tau=0.5, tau_max=2.0)
    sim.connect(pop[0], d, receptor_type=0)
    sim.connect(pop[1], d, receptor_type=1)
    res = sim.simulate(30.0 * u.ms)
    axes = nx.plot.correlation(res, d)
    cc = res.get(d, "count_covariance")
    assert axes.shape == (2, 2) and cc.sum() > 0
    for i in range(2):
        for j in range(2):
            np.testing.assert_array_equal([p.get_height() for p in axes[i, j].patches], cc[i, j])
            np.testing.assert_allclose(_centres(axes[i, j]), np.arange(-4, 5) * 0.5, atol=1e-12)
    plt.close("all")


def test_correlation_plot_refuses_other_recorders():
    sim = nx.Simulator(dt=DT)
    pop = sim.create(nx.mcculloch_pitts_neuron, 1)
    sd = sim.create(nx.spin_detector)
    sim.connect(pop, sd)
    res = sim.simulate(5.0 * u.ms)
    with pytest.raises(Exception, match="not a correlation detector"):
        nx.plot.correlation(res, sd)
