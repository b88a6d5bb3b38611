"""Exports of a Result: pandas (NEST's events), Neo (Segment), NWB (written and read back); and the
plots of nx.plot. pandas, neo and pynwb are optional extras: skipped locally when missing, required
in CI (CI=true)."""
import os

import brainunit as u
import numpy as np
import pytest

import nestax as nx


def _optional(name):
    try:
        return __import__(name)
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip(f"{name} is not installed (pip install 'nestax[export]')")


@pytest.fixture(scope="module")
def run():
    sim = nx.Simulator(dt=0.1)
    sg = sim.create("spike_generator", spike_times=[1.0, 2.5, 2.5, 7.3])
    pa = sim.create("parrot_neuron", 3)
    nrn = sim.create("iaf_psc_alpha", 2, I_e=600.0)
    sr = sim.create("spike_recorder")
    mm = sim.create("multimeter", record_from=["V_m", "I_syn_ex"], interval=0.5)
    wr = sim.create("weight_recorder")
    sim.connect(sg, pa)
    sim.connect(pa, nrn, weight=50.0, weight_recorder=wr)
    sim.connect(pa + nrn, sr)
    sim.connect(mm, nrn)
    res = sim.simulate(30.0)
    return res, sr, mm, wr, pa + nrn


def test_to_pandas(run):
    _optional("pandas")
    res, sr, mm, wr, _ = run
    df = res.to_pandas(sr)
    ev = res.events(sr)
    assert list(df.columns) == ["senders", "times"]
    np.testing.assert_array_equal(df["senders"], ev["senders"])
    np.testing.assert_allclose(df["times"], ev["times"].to_decimal(u.ms))
    d = res.to_pandas(mm)
    assert list(d.columns) == ["senders", "times", "V_m", "I_syn_ex"]
    assert len(d) == 2 * len(res.trace_times(mm))
    np.testing.assert_allclose(d["V_m"], res.events(mm)["V_m"].to_decimal(u.mV))
    w = res.to_pandas(wr)
    assert {"senders", "targets", "times", "weights", "receptors", "ports"} <= set(w.columns)
    assert (w["weights"] == 50.0).all() and len(w) == res.n_events(wr)


def test_to_neo(run):
    neo = _optional("neo")
    import quantities as pq
    res, sr, mm, wr, senders = run
    seg = res.to_neo(sr)
    assert isinstance(seg, neo.Segment)
    assert [st.annotations["sender"] for st in seg.spiketrains] == list(res.senders(sr))
    for st in seg.spiketrains:
        want = res.spike_times(sr, st.annotations["sender"]).to_decimal(u.ms)
        np.testing.assert_allclose(st.rescale(pq.ms).magnitude, want)
        assert st.t_stop == 30.0 * pq.ms
    seg = res.to_neo(mm)
    vm = next(s for s in seg.analogsignals if s.name == "V_m")
    assert vm.units == pq.mV and vm.shape == (len(res.trace_times(mm)), 2)
    np.testing.assert_array_equal(vm.array_annotations["senders"], res.targets(mm))
    np.testing.assert_allclose(vm.magnitude, res.trace(mm, "V_m").to_decimal(u.mV))
    assert float(vm.sampling_period.rescale(pq.ms)) == pytest.approx(0.5)
    assert next(s for s in seg.analogsignals if s.name == "I_syn_ex").units == pq.pA
    with pytest.raises(nx.errors.RecorderError, match="weight_recorder.*to_pandas"):
        res.to_neo(wr)


def test_to_nwb_round_trip(run, tmp_path):
    pynwb = _optional("pynwb")
    res, sr, mm, wr, _ = run
    path = tmp_path / "run.nwb"
    res.to_nwb(path)
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        f = io.read()
        units = f.units.to_dataframe()
        assert list(units["sender"]) == list(res.senders(sr))
        for _, row in units.iterrows():
            want = res.spike_times(sr, int(row["sender"])).to_decimal(u.ms) / 1000.0
            np.testing.assert_allclose(row["spike_times"], want)
        ts = f.acquisition[f"multimeter_{int(mm._gids[0])}_V_m"]
        assert ts.unit == "mV"
        np.testing.assert_allclose(ts.data[:], res.trace(mm, "V_m").to_decimal(u.mV))
        np.testing.assert_allclose(ts.timestamps[:], res.trace_times(mm).to_decimal(u.ms) / 1000.0)


def test_missing_library_names_the_extra(run, monkeypatch):
    import builtins
    res, sr, *_ = run
    real = builtins.__import__

    def fake(name, *a, **k):
        if name.split(".")[0] in ("pandas", "neo", "pynwb"):
            raise ImportError(name)
        return real(name, *a, **k)
    monkeypatch.setattr(builtins, "__import__", fake)
    import sys
    for m in ("pandas", "neo", "pynwb"):
        monkeypatch.delitem(sys.modules, m, raising=False)
    with pytest.raises(ImportError, match=r"nestax\[pandas\]"):
        res.to_pandas(sr)
    with pytest.raises(ImportError, match=r"nestax\[neo\]"):
        res.to_neo(sr)
    with pytest.raises(ImportError, match=r"nestax\[nwb\]"):
        res.to_nwb("x.nwb")


def test_raster_plot_and_voltage_trace(run):
    _optional("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    res, sr, mm, wr, _ = run
    ax_r, ax_h = nx.plot.raster_plot(res, sr, hist=True, hist_binwidth=5.0)
    pts = ax_r.lines[0].get_xydata()
    ev = res.events(sr)
    np.testing.assert_allclose(pts[:, 0], ev["times"].to_decimal(u.ms))
    np.testing.assert_array_equal(pts[:, 1], ev["senders"])
    # NEST's PSTH: bins of 5 ms from the first spike on, the last one open to the right (it takes every
    # spike from its edge on), rate per neuron that spiked (tests/parity/test_plot_parity.py: vs NEST)
    t = np.sort(ev["times"].to_decimal(u.ms))
    edges = np.arange(t.min(), t.max(), 5.0)
    n = [np.sum((t >= a) & (t < b)) for a, b in zip(edges[:-1], edges[1:])] + [np.sum(t >= edges[-1])]
    heights = [p.get_height() for p in ax_h.patches]
    np.testing.assert_allclose(heights, 1000.0 * np.array(n) / (5.0 * len(np.unique(ev["senders"]))))
    assert ax_h.get_ylabel() == "Rate (spks/s)" and ax_r.get_ylabel() == "Neuron ID"
    axes = nx.plot.voltage_trace(res, mm)
    assert len(axes.lines) == 2  # one line per recorded neuron
    np.testing.assert_allclose(axes.lines[0].get_ydata(), res.trace(mm, "V_m").to_decimal(u.mV)[:, 0])
    plt.close("all")
