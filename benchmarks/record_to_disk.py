"""Recording every spike of Brunel 12,500 to disk keeps memory bounded (issue 11's memory figure).

Runs NEST's brunel_delta network at order 2500 (12,500 iaf_psc_delta neurons, CE = 1000) for
``--T`` ms (default 10 s) in separate processes, so each peak RSS is that run's alone:

- ``none``:   no spike recorder at all (the baseline);
- ``ascii``:  one spike_recorder on all 12,500 neurons with record_to="ascii" (files are written chunk
  by chunk during simulate; nothing is kept in memory);
- ``memory``: the same recorder with record_to="memory" (every event kept for the Result);
- ``nest-ascii`` (with ``--nest``): NEST 3.10 recording all spikes to ascii, for comparison.

Prints one row per run: peak RSS (MB), simulate wall time (s), events recorded, file size.
Peak RSS does not depend on machine load; wall times do (time only on an idle machine).

    python benchmarks/record_to_disk.py                 # nestax: none, ascii, memory; T = 10 s
    python benchmarks/record_to_disk.py --nest --T 2000
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from networks import Brunel, nest_kernel  # noqa: E402

MODES = ("none", "ascii", "memory")


def _peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker_nestax(mode, T, path):
    import jax
    jax.config.update("jax_enable_x64", True)
    import nestax as nx
    spec = Brunel(order=2500)
    sim = nx.Simulator(dt=0.1, seed=1)
    E = sim.create(nx.iaf_psc_delta, spec.NE, **spec.neuron_params())
    I = sim.create(nx.iaf_psc_delta, spec.NI, **spec.neuron_params())
    noise = sim.create(nx.poisson_generator, rate=spec.p_rate())
    sim.connect(noise, E + I, weight=spec.J, delay=spec.delay)
    sim.connect(E, E + I, rule="fixed_indegree", indegree=spec.CE, weight=spec.J, delay=spec.delay)
    sim.connect(I, E + I, rule="fixed_indegree", indegree=spec.CI, weight=-spec.g * spec.J, delay=spec.delay)
    sr = None
    if mode != "none":
        sim.data_path = path
        sr = sim.create(nx.spike_recorder, record_to=mode, label="brunel")
        sim.connect(E + I, sr)
    t0 = time.perf_counter()
    res = sim.simulate(T)
    wall = time.perf_counter() - t0
    n = int(res.n_events(sr)) if mode == "memory" else None
    return wall, n


def worker_nest(T, path, threads):
    nest = nest_kernel(0.1, 1, threads)
    nest.data_path = path
    spec = Brunel(order=2500)
    E = nest.Create("iaf_psc_delta", spec.NE, params=spec.neuron_params())
    I = nest.Create("iaf_psc_delta", spec.NI, params=spec.neuron_params())
    noise = nest.Create("poisson_generator", params={"rate": spec.p_rate()})
    sr = nest.Create("spike_recorder", params={"record_to": "ascii", "label": "brunel"})
    nest.Connect(noise, E + I, syn_spec={"weight": spec.J, "delay": spec.delay})
    nest.Connect(E, E + I, {"rule": "fixed_indegree", "indegree": spec.CE}, {"weight": spec.J, "delay": spec.delay})
    nest.Connect(I, E + I, {"rule": "fixed_indegree", "indegree": spec.CI},
                 {"weight": -spec.g * spec.J, "delay": spec.delay})
    nest.Connect(E + I, sr)
    t0 = time.perf_counter()
    nest.Simulate(T)
    return time.perf_counter() - t0, None


def _file_info(path):
    files = glob.glob(os.path.join(path, "*"))
    size = sum(os.path.getsize(f) for f in files)
    lines = 0
    for f in files:
        with open(f, "rb") as fh:
            lines += sum(1 for line in fh if not line.startswith(b"#") and not line.startswith(b"sender"))
    return size, lines


def run(mode, T, threads):
    with tempfile.TemporaryDirectory() as path:
        cmd = [sys.executable, __file__, "--worker", mode, "--T", str(T), "--path", path, "--threads", str(threads)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        row = json.loads(out)
        if mode.endswith("ascii"):
            row["file_bytes"], row["events"] = _file_info(path)
        return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--T", type=float, default=10_000.0, help="biological time in ms (default 10000)")
    ap.add_argument("--nest", action="store_true", help="also NEST 3.10 recording all spikes to ascii")
    ap.add_argument("--threads", type=int, default=0, help="NEST threads (default os.cpu_count())")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--path", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    threads = a.threads or os.cpu_count()
    if a.worker:
        wall, n = worker_nest(a.T, a.path, threads) if a.worker == "nest-ascii" else worker_nestax(a.worker, a.T, a.path)
        print(json.dumps(dict(mode=a.worker, sim_s=wall, events=n, peak_rss_mb=_peak_rss_mb())))
        return 0
    modes = MODES + (("nest-ascii",) if a.nest else ())
    print(f"Brunel 12,500 (iaf_psc_delta, CE = 1000), T = {a.T:g} ms, every spike recorded")
    print(f"{'run':<12} {'peak RSS MB':>12} {'simulate s':>11} {'events':>10} {'file MB':>9}")
    rows = {}
    for m in modes:
        r = rows[m] = run(m, a.T, threads)
        fb = r.get("file_bytes")
        print(f"{m:<12} {r['peak_rss_mb']:>12.0f} {r['sim_s']:>11.1f} {r['events'] if r['events'] is not None else '-':>10} "
              f"{'-' if fb is None else f'{fb / 2**20:.1f}':>9}", flush=True)
    ratio = rows["ascii"]["peak_rss_mb"] / rows["none"]["peak_rss_mb"]
    print(f"peak RSS ascii / none: {ratio:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
