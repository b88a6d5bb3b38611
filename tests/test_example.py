"""The documented example runs as written and prints what the docs say.

1. examples/record_and_analyze.py, run as a user would (a subprocess, in a scratch directory).
2. The code of the "Record and analyze" page our users know (brainpy.state), with ``nx`` in place of
   ``bp``, including the two brainstate precision lines (skipped if brainstate is not installed).
"""
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "record_and_analyze.py"


def _run(script_path, cwd):
    env = dict(os.environ, MPLBACKEND="Agg")
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    p = subprocess.run([sys.executable, str(script_path)], cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def _check_output(out):
    assert "firing rate: 450.00 spks/s" in out, out
    assert "n_events: 45" in out, out
    m = re.search(r"first 8 spike steps : \[\s*(\d+)((?:\s+\d+){7})\s*\]", out)
    assert m, out
    steps = [int(m.group(1))] + [int(x) for x in m.group(2).split()]
    assert steps[0] in (21, 22) and all(b > a for a, b in zip(steps, steps[1:]))
    m = re.search(r"first 8 spike times : \[\s*([\d.]+)", out)
    assert m and abs(float(m.group(1)) - steps[0] * 0.1) < 1e-9, out
    assert re.search(r"V_m trace: 1000 samples, min -70\.00 mV, max -5\d\.\d\d mV", out), out
    m = re.search(r"ISI CV: (\d\.\d{3}) \(mean ISI (\d+\.\d\d) ms\)", out)
    assert m, out
    assert float(m.group(1)) < 0.05 and abs(float(m.group(2)) - 2.2) < 0.1


def test_record_and_analyze_example(tmp_path):
    out = _run(EXAMPLE, tmp_path)
    _check_output(out)
    png = tmp_path / "record_and_analyze.png"
    assert "figure saved to record_and_analyze.png" in out
    assert png.exists() and png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rate_network_example(tmp_path):
    """examples/rate_network.py: population rates near the linear fixed point (noise sigma = 5; the
    per-population time average over 200 ms has an SE of ~0.08 (E) and ~0.16 (I))."""
    out = _run(ROOT / "examples" / "rate_network.py", tmp_path)
    for pop in ("excitatory", "inhibitory"):
        m = re.search(pop + r" rate: (-?\d+\.\d{3}) \(fixed point (\d+\.\d{3})\)", out)
        assert m, out
        assert float(m.group(2)) == 1.939, out
        assert abs(float(m.group(1)) - 1.939) < 0.4, out
    assert (tmp_path / "rate_network.png").stat().st_size > 10_000


def test_binary_network_example(tmp_path):
    """examples/binary_network.py: activities near the mean-field fixed point (0.121 for both
    populations; finite-size and correlation effects make the simulation differ by a few 1e-3)."""
    out = _run(ROOT / "examples" / "binary_network.py", tmp_path)
    for pop in ("excitatory", "inhibitory"):
        m = re.search(pop + r" activity: (\d\.\d{3}) \(mean field (\d\.\d{3})\)", out)
        assert m, out
        assert float(m.group(2)) == 0.121, out
        assert abs(float(m.group(1)) - 0.121) < 0.02, out


# The page's code, line by line, with `from brainpy import state as bp` -> `import nestax as nx` and
# `bp.` -> `nx.`. The brainstate precision switch is kept, guarded: nestax follows JAX's x64 flag.
SEED_PAGE = '''
import jax
jax.config.update('jax_enable_x64', True)
try:
    import brainstate
    brainstate.environ.set(precision=64)
except ImportError:
    pass
import numpy as np
import brainunit as u
import matplotlib.pyplot as plt
import nestax as nx

dt = 0.1
sim = nx.Simulator(dt=dt * u.ms)
neuron = sim.create(nx.iaf_psc_exp, 1)
pg = sim.create(nx.poisson_generator, 1, rate=1_000_000. * u.Hz, rng_seed=0)
sr = sim.create(nx.spike_recorder)
mm = sim.create(nx.multimeter, record_from=['V_m'], interval=dt * u.ms)
sim.connect(pg, neuron, weight=10. * u.pA, delay=1.0 * u.ms)
sim.connect(neuron, sr) # spike tap
sim.connect(mm, neuron) # reversed: the multimeter observes the neuron
res = sim.simulate(100. * u.ms)

print(f'firing rate: {res.rate(sr):.2f} spks/s')
print(f'n_events: {res.n_events(sr)}')

spk = np.asarray(res.spikes(sr)).reshape(-1) # (n_steps,) for one neuron
steps = np.nonzero(spk > 0)[0]
t_ms = np.asarray(u.get_mantissa(res.times / u.ms))
spike_times = t_ms[steps]
print('first 8 spike steps :', steps[:8])
print('first 8 spike times :', np.round(spike_times[:8], 1), 'ms')

v = np.asarray(u.get_mantissa(res.trace(mm, 'V_m') / u.mV)).reshape(-1)
print(f'V_m trace: {v.shape[0]} samples, min {v.min():.2f} mV, max {v.max():.2f} mV')
isi = np.diff(spike_times)
if isi.size:
    cv = float(isi.std() / isi.mean())
    print(f'ISI CV: {cv:.3f} (mean ISI {isi.mean():.2f} ms)')
fig, (a0, a1) = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
a0.plot(t_ms, v, color='k', lw=0.6); a0.set_ylabel('V_m (mV)')
a1.plot(spike_times, np.ones_like(spike_times), 'k|', ms=10)
a1.set_xlabel('time (ms)'); a1.set_yticks([])
a0.set_title('multimeter trace + spike raster')
fig.tight_layout()
'''


def test_seed_page_code_runs_with_nx(tmp_path):
    script = tmp_path / "seed_page.py"
    script.write_text(textwrap.dedent(SEED_PAGE))
    out = _run(script, tmp_path)
    _check_output(out)


def test_seed_page_keeps_brainstate_lines_when_installed(tmp_path):
    pytest.importorskip("brainstate")
    script = tmp_path / "seed_page_brainstate.py"
    script.write_text(textwrap.dedent(SEED_PAGE).replace(
        "try:\n    import brainstate\n    brainstate.environ.set(precision=64)\nexcept ImportError:\n    pass\n",
        "import brainstate\nbrainstate.environ.set(precision=64)\n"))
    _check_output(_run(script, tmp_path))
