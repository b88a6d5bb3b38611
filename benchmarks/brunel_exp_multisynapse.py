#!/usr/bin/env python
"""NEST's own example brunel_exp_multisynapse_nest.py (12,500 iaf_psc_exp_multisynapse neurons with
100 receptor ports of different tau_syn, every connection on a uniformly drawn port, 1 s), run as
shipped in NEST and through ``nestax.nest`` with only its import lines changed.

    python benchmarks/brunel_exp_multisynapse.py                # NEST 2 threads and nestax, 3 runs each
    python benchmarks/brunel_exp_multisynapse.py --order 500    # smaller (2,500 neurons)

Each run is a fresh subprocess. Changes to the script, the same for both: ``local_num_threads``
(4 in the script) set to --threads, the spike recorders write to memory instead of ascii files,
and the final raster plot is left out. Timed: the script's own build time (Create / Connect) and
its simulation time (``nest.Simulate(1000.0)``, which for nestax includes the lowering and the
compile of the first call: the script simulates once). Printed: the medians and the ratio
nestax / NEST, with both simulators' rates (they draw different random numbers, so the rates agree
in distribution only).
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent


def script_text(which: str, order: int, threads: int, simtime: float) -> str:
    import nest
    src = (pathlib.Path(nest.__file__).parent / "doc" / "examples" / "pynest" /
           "brunel_exp_multisynapse_nest.py").read_text()
    for old, new in (("nest.local_num_threads = 4", f"nest.local_num_threads = {threads}"),
                     ('record_to="ascii"', 'record_to="memory"'),
                     ("order = 2500", f"order = {order}"),
                     ("simtime = 1000.0", f"simtime = {simtime}"),
                     ("nest.raster_plot.from_device(espikes, hist=True)", "pass"),
                     ("plt.show()", "pass")):
        assert old in src, old
        src = src.replace(old, new)
    if which == "nestax":
        sys.path.insert(0, str(HERE.parent / "tests"))
        from pynest.harness import nestax_source
        src = "import jax\njax.config.update('jax_enable_x64', True)\n" + nestax_source(src)
    src += ("\nimport json, resource\nprint('RESULT ' + json.dumps(dict(build=build_time, sim=sim_time, "
            "rate_ex=rate_ex, rate_in=rate_in, synapses=num_synapses, "
            "rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))\n")
    return src


def run_once(which, order, threads, simtime, timeout):
    src = script_text(which, order, threads, simtime)
    env = dict(os.environ)
    p = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True, timeout=timeout, env=env,
                       cwd=os.environ.get("TMPDIR", "/tmp"))
    line = [x for x in p.stdout.splitlines() if x.startswith("RESULT ")]
    if p.returncode != 0 or not line:
        raise RuntimeError(f"{which} failed:\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}")
    return json.loads(line[0][7:])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--order", type=int, default=2500)
    ap.add_argument("--T", type=float, default=1000.0, help="simtime in ms")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--simulators", default="nest,nestax")
    ap.add_argument("--timeout", type=float, default=1800.0)
    a = ap.parse_args()
    rows = {}
    for which in a.simulators.split(","):
        runs = [run_once(which, a.order, a.threads, a.T, a.timeout) for _ in range(a.repeat)]
        rows[which] = runs
        med = {k: statistics.median(r[k] for r in runs) for k in ("build", "sim", "rate_ex", "rate_in", "rss_mb")}
        sims = ", ".join(f"{r['sim']:.2f}" for r in runs)
        print(f"{which:7s} build {med['build']:7.2f} s  simulate {med['sim']:7.2f} s  (runs: {sims})  rates {med['rate_ex']:.2f} / {med['rate_in']:.2f} Hz  "
              f"synapses {runs[0]['synapses']:,}  peak RSS {med['rss_mb']:.0f} MB", flush=True)
    if "nest" in rows and "nestax" in rows:
        m = {w: statistics.median(r["sim"] for r in rows[w]) for w in rows}
        b = {w: statistics.median(r["build"] + r["sim"] for r in rows[w]) for w in rows}
        print(f"simulate: nestax / NEST = {m['nestax'] / m['nest']:.2f}x;  build + simulate: "
              f"{b['nestax'] / b['nest']:.2f}x  (NEST {a.threads} threads, order {a.order}, T {a.T} ms)")


if __name__ == "__main__":
    main()
