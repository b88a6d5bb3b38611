"""The host side of spike recording: a chunk's dense record (int32 counts, or packed bits for models
whose spikes are flags) -> (row, column, count), equal to np.nonzero's for any shape and density."""
import brainunit as u
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nestax.recording.collector import spike_entries


@settings(max_examples=200, deadline=None)
@given(rows=st.integers(0, 40), cols=st.integers(0, 50), density=st.sampled_from([0.0, 0.01, 0.2, 1.0]),
       seed=st.integers(0, 2**31 - 1), maxcount=st.integers(1, 5))
def test_spike_entries_equal_nonzero(rows, cols, density, seed, maxcount):
    rng = np.random.default_rng(seed)
    counts = ((rng.random((rows, cols)) < density) * rng.integers(1, maxcount + 1, (rows, cols))).astype(np.int32)
    i0, j0 = np.nonzero(counts)
    i, j, m = spike_entries(counts)
    np.testing.assert_array_equal(i, i0)
    np.testing.assert_array_equal(j, j0)
    np.testing.assert_array_equal(m, counts[i0, j0])
    flags = counts > 0
    i, j, m = spike_entries(np.packbits(flags, axis=1) if cols else np.zeros((rows, 0), np.uint8))
    np.testing.assert_array_equal(i, i0)
    np.testing.assert_array_equal(j, j0)
    np.testing.assert_array_equal(m, np.ones(len(i0)))


def test_packed_recording_gives_the_events_of_counts():
    """iaf_psc_delta says spike or no spike (bool): its record is packed; a parrot's spikes are counts
    (multiplicity). Both are recorded correctly side by side in one network."""
    import nestax as nx
    sim = nx.Simulator(dt=0.1, seed=3)
    pg = sim.create(nx.poisson_generator, rate=40000.0)
    par = sim.create(nx.parrot_neuron, 13)
    nrn = sim.create(nx.iaf_psc_delta, 13, I_e=400.0, V_m=np.linspace(-70, -56, 13))
    sr = sim.create(nx.spike_recorder)
    sim.connect(pg, par)
    sim.connect(par + nrn, sr)
    res = sim.simulate(200.0)
    ev = res.events(sr)
    steps, senders = np.asarray(ev["times"].to_decimal(u.ms)), np.asarray(ev["senders"])
    # every neuron fires regularly: its intervals are equal (to the step) and its first spike comes
    # earlier the closer V_m started to V_th
    firsts = []
    for g in nrn.tolist():
        t = np.sort(steps[senders == g])
        assert len(t) > 5
        isi = np.diff(t)
        assert np.ptp(isi[1:]) <= 0.1 + 1e-9
        firsts.append(t[0])
    assert np.all(np.diff(firsts) <= 0) and firsts[0] > firsts[-1]
    # the parrots repeat the generator's multiplicities: same step appearing several times per sender
    par_ev = np.isin(senders, par.tolist())
    key = senders[par_ev] * 10**7 + np.round(steps[par_ev] * 10).astype(np.int64)
    assert len(key) > len(np.unique(key)) > 0, "multiplicity > 1 is kept"
