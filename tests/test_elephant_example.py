"""examples/elephant_analysis.py: Elephant's analysis of res.to_neo(...) checked against plain numpy
on the same run, and Elephant's cross-correlogram against nestax's correlation_detector.

Needs Elephant (the extras ``analysis`` and ``test`` install it). CI installs ``test``: there a missing Elephant is
a failure; elsewhere the test skips when Elephant is not installed.
"""
import importlib.util
import os
from pathlib import Path

import brainunit as u
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _need_elephant():
    try:
        import elephant  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip('Elephant is not installed (pip install "nestax[analysis]")')


@pytest.fixture(scope="module")
def example():
    _need_elephant()
    spec = importlib.util.spec_from_file_location("elephant_analysis", ROOT / "examples" / "elephant_analysis.py")
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    res, sr, cd, neurons, parrots = ex.simulate()
    return ex, res, sr, cd, neurons, parrots, ex.analyse(res, sr, cd, neurons, parrots)


def _trains(res, sr, gids):
    times = res.spike_times(sr)
    return {g: np.sort(np.asarray(times[g].to_decimal(u.ms))) for g in gids}


def test_rates_and_cv_equal_numpy(example):
    ex, res, sr, cd, neurons, parrots, out = example
    tr = _trains(res, sr, neurons)
    rates = np.array([len(tr[g]) / (ex.T / 1000.0) for g in neurons])
    np.testing.assert_allclose(out["rates"], rates, rtol=1e-12)
    cvs = []
    for g in neurons:
        d = np.diff(tr[g])
        if len(tr[g]) > 2:
            cvs.append(d.std() / d.mean())
    np.testing.assert_allclose(out["cvs"], cvs, rtol=1e-9)
    assert 20.0 < rates.mean() < 200.0 and len(cvs) == len(neurons)


def test_cross_correlogram_equals_detector_and_pair_count(example):
    ex, res, sr, cd, neurons, parrots, out = example
    tr = _trains(res, sr, parrots)
    s0 = np.round(tr[parrots[0]] / ex.DT).astype(np.int64)
    s1 = np.round(tr[parrots[1]] / ex.DT).astype(np.int64)
    d, tm = int(round(ex.DELTA_TAU / ex.DT)), int(round(ex.TAU_MAX / ex.DT))
    # brute force: every pair's lag t1 - t0 in steps, binned as the detector bins it
    lags = (s1[None, :] - s0[:, None]).ravel()
    edge = tm + d / 2
    lags = lags[(lags >= -edge) & (lags < edge)]
    brute = np.bincount(np.floor((lags + edge) / d).astype(int), minlength=1 + 2 * tm // d)
    np.testing.assert_array_equal(out["cch_grouped"], brute)
    np.testing.assert_array_equal(out["detector"], brute)
    c = len(brute) // 2
    assert brute[c] > 5 * np.delete(brute, c).mean()  # the mip_generator's coincidences
