#!/usr/bin/env python
"""nestax vs NEST 3.10 (and Brian2) on classic networks: build, compile, simulate, peak RSS, spikes.

    python benchmarks/run.py                       # Brunel 2500 + 12500, CUBA, COBA, one neuron (1 s / 100 s)
    python benchmarks/run.py --big                 # ... plus Brunel 50000
    python benchmarks/run.py --quick               # T = 100 ms, one neuron 1 s, Brunel 2500 only
    python benchmarks/run.py --only cuba,coba      # some networks (substring match on the name)
    python benchmarks/run.py --networks aeif       # the aeif_cond_exp network alone
    python benchmarks/run.py --networks coba --nestax-seed 4   # COBA: draws that survive in both
    python benchmarks/run.py --simulators nestax,nest --float32
    python benchmarks/run.py --repeat 3 --simulators nestax,nest                 # medians of 3 runs
    python benchmarks/run.py --networks hpc_benchmark --simulators nestax,nest     # opt-in: NEST's hpc_benchmark
    python benchmarks/run.py --networks hpc_benchmark --scale 0.1 --T 200         # ... at 1/10 size
    python benchmarks/run.py --networks microcircuit --scale 0.05 --T 200          # opt-in: Potjans & Diesmann 2014
    python benchmarks/run.py --networks brunel_tsodyks2 --simulators nestax,nest   # opt-in: Brunel 12500, tsodyks2

Each (network, simulator) runs in its own subprocess (``--worker``), which prints one JSON line;
this driver collects them, checks nestax (and Brian2) against NEST and prints the table.
See benchmarks/README.md for the protocol and the meaning of the columns.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import hpc_benchmark as hpc  # noqa: E402
import microcircuit as mc  # noqa: E402  (benchmarks/microcircuit.py: HERE comes first on sys.path)
import networks as nw  # noqa: E402

# equivalence criteria (against the NEST row of the same network)
RATE_TOL = 0.10          # |rate - rate_NEST| <= 10 % of rate_NEST
CV_TOL = 0.10            # |CV - CV_NEST| <= 0.1
RATE_TOL_BRIAN = 0.20    # Brian2: a different integrator and threshold/refractory scheduling
CV_TOL_BRIAN = 0.15

BRUNEL_SIZES = {2500: dict(order=500), 12500: dict(order=2500, CE_fixed=1000),
                50000: dict(order=10000, CE_fixed=1000)}
SIMULATORS = ("nestax", "nest", "brian2", "brian2-cpp")
# networks that run only when asked for by name (--networks), with the names that select them
OPT_IN = {"hpc_benchmark": ("hpc", "hpc_benchmark"), "brunel_tsodyks2": ("tsodyks2", "brunel_tsodyks2"),
          "microcircuit": ("microcircuit", "potjans"), "microcircuit-dc": ("microcircuit-dc",)}


# ==================================================================================================
# networks
# ==================================================================================================
def network_names(args):
    """The default set, or those matching --only/--networks."""
    sizes = sorted({int(s) for s in args.sizes.split(",") if s} | ({50000} if args.big else set()))
    names = [f"brunel-{n}" for n in sizes] + ["cuba", "coba", "aeif", "one-neuron"]
    if args.only:
        keys = [k.strip().lower() for k in args.only.split(",") if k.strip()]
        return ([n for n in names if any(k in n for k in keys)]
                + [n for n, aliases in OPT_IN.items() if any(k in aliases for k in keys)])
    return names


def simulators_for(net, args):
    wanted = [s.strip() for s in args.simulators.split(",") if s.strip()]
    ok = {"nestax", "nest"} | ({"brian2", "brian2-cpp"} if net in ("cuba", "coba") else set())
    return [s for s in SIMULATORS if s in wanted and s in ok]


@dataclass
class BrunelTsodyks2(nw.Brunel):
    """The Brunel network (iaf_psc_delta, order 2500: 12,500 neurons, CE = epsilon * NE = 1000) with
    every connection from an E neuron a tsodyks2_synapse; I -> all and the Poisson drive stay static.

    Depressing, weakly facilitating synapses: U = 0.5, tau_rec = 100 ms, tau_fac = 50 ms, initial
    u = U and x = 1 (set explicitly: NEST's initial u is 0.5 whatever U is). The delivered weight is
    weight * u * x, so weight = J / U makes a first spike from rest deliver J = 0.1 mV, as in the
    static network; repeated spikes deliver less. Records the first 1000 E and 250 I neurons.
    """
    U: float = 0.5
    tau_rec: float = 100.0
    tau_fac: float = 50.0
    rec_E: int = 1000
    rec_I: int = 250

    def __post_init__(self):
        self.n_rec = self.n_rec_E + self.n_rec_I

    @property
    def n_rec_E(self):
        return min(self.rec_E, self.NE)

    @property
    def n_rec_I(self):
        return min(self.rec_I, self.NI)

    def tsodyks2(self):
        """syn_spec of the E connections (beyond the synapse model)."""
        return {"weight": self.J / self.U, "delay": self.delay, "U": self.U, "u": self.U, "x": 1.0,
                "tau_rec": self.tau_rec, "tau_fac": self.tau_fac}


def brunel_tsodyks2_nestax(spec: BrunelTsodyks2, dt=0.1, seed=1, precision=None):
    import nestax as nx
    t0 = time.perf_counter()
    sim = nx.Simulator(dt=dt, seed=seed, precision=precision)
    E = sim.create(nx.iaf_psc_delta, spec.NE, **spec.neuron_params())
    I = sim.create(nx.iaf_psc_delta, spec.NI, **spec.neuron_params())
    noise = sim.create(nx.poisson_generator, rate=spec.p_rate())
    sr = sim.create(nx.spike_recorder)
    sim.connect(noise, E + I, weight=spec.J, delay=spec.delay)
    sim.connect(E, E + I, rule="fixed_indegree", indegree=spec.CE, synapse_model=nx.tsodyks2_synapse,
                **spec.tsodyks2())
    sim.connect(I, E + I, rule="fixed_indegree", indegree=spec.CI, weight=-spec.g * spec.J, delay=spec.delay)
    sim.connect(E[: spec.n_rec_E] + I[: spec.n_rec_I], sr)
    return sim, sr, time.perf_counter() - t0


def brunel_tsodyks2_nest(spec: BrunelTsodyks2, dt=0.1, seed=1, threads=1):
    nest = nw.nest_kernel(dt, seed, threads)
    t0 = time.perf_counter()
    E = nest.Create("iaf_psc_delta", spec.NE, params=spec.neuron_params())
    I = nest.Create("iaf_psc_delta", spec.NI, params=spec.neuron_params())
    noise = nest.Create("poisson_generator", params={"rate": spec.p_rate()})
    sr = nest.Create("spike_recorder")
    nest.Connect(noise, E + I, syn_spec={"weight": spec.J, "delay": spec.delay})
    nest.Connect(E, E + I, {"rule": "fixed_indegree", "indegree": spec.CE},
                 {"synapse_model": "tsodyks2_synapse", **spec.tsodyks2()})
    nest.Connect(I, E + I, {"rule": "fixed_indegree", "indegree": spec.CI},
                 {"weight": -spec.g * spec.J, "delay": spec.delay})
    nest.Connect(E[: spec.n_rec_E] + I[: spec.n_rec_I], sr)
    return nest, sr, time.perf_counter() - t0


def builders_of(net):
    """(nestax builder, NEST builder) of a network: each returns (simulator, spike recorder, build s)."""
    if net.startswith("brunel-"):
        return nw.brunel_nestax, nw.brunel_nest
    if net in ("cuba", "coba"):
        return nw.va_nestax, nw.va_nest
    return {"aeif": (nw.adex_nestax, nw.adex_nest), "one-neuron": (nw.one_nestax, nw.one_nest),
            "hpc_benchmark": (hpc.hpc_nestax, hpc.hpc_nest),
            "brunel_tsodyks2": (brunel_tsodyks2_nestax, brunel_tsodyks2_nest),
            "microcircuit": (mc.mc_nestax, mc.mc_nest), "microcircuit-dc": (mc.mc_nestax, mc.mc_nest)}[net]


def rec_groups(spec):
    """{population: (first global id, number)} of the recorded neurons of networks that record E and I
    apart (E[:n_rec_E] and I[:n_rec_I], E created first), the microcircuit's 8 populations; {} for the others."""
    if hasattr(spec, "groups"):
        return spec.groups()
    if not hasattr(spec, "n_rec_E"):
        return {}
    return {"E": (1, spec.n_rec_E), "I": (spec.NE + 1, spec.n_rec_I)}


def spec_of(net, scale=1.0):
    if net == "hpc_benchmark":
        return hpc.HPCBenchmark(scale=scale)
    if net == "brunel_tsodyks2":
        return BrunelTsodyks2(order=int(round(2500 * scale)))
    if net in ("microcircuit", "microcircuit-dc"):
        return mc.Microcircuit(scale=scale, bg="dc" if net.endswith("-dc") else "poisson")
    if net.startswith("brunel-"):
        return nw.Brunel(**BRUNEL_SIZES[int(net.split("-")[1])])
    if net in ("cuba", "coba"):
        return nw.VogelsAbbott(kind=net)
    if net == "aeif":
        return nw.AdEx()
    if net == "one-neuron":
        return nw.OneNeuron()
    raise SystemExit(f"unknown network {net!r}")


# ==================================================================================================
# workers: one (network, simulator) per process, one JSON line on stdout
# ==================================================================================================
def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker_nestax(net, spec, a):
    import jax
    jax.config.update("jax_enable_x64", not a.float32)
    import numpy as np
    sim, sr, build = builders_of(net)[0](spec, seed=a.seed)
    # the warm-up is exactly one full chunk, so it compiles the code the timed run reuses
    sim.max_chunk = int(round(a.warmup / 0.1))
    sim._compiled = None
    t0 = time.perf_counter()
    sim.simulate(a.warmup)
    warm = time.perf_counter() - t0
    prepare = sim.timings.get("prepare_s", 0.0)
    t0 = time.perf_counter()
    res = sim.simulate(a.T)
    run = time.perf_counter() - t0
    ev = res.events(sr)
    times = np.asarray(ev["times"].mantissa if hasattr(ev["times"], "mantissa") else ev["times"], float)
    return dict(build_s=build, warmup_s=warm, sim_s=run, prepare_s=prepare,
                senders=np.asarray(ev["senders"]), times=times,
                info=f"jax {jax.__version__} {jax.default_backend()} "
                     f"{'float32' if a.float32 else 'float64'}, native kernels {native_status()}")


def native_status():
    from nestax.engine import native
    return native.status().split(",")[0]  # 'on' / 'off (why)'



def worker_nest(net, spec, a):
    import numpy as np
    threads = a.threads or os.cpu_count()
    nest, sr, build = builders_of(net)[1](spec, seed=a.seed, threads=threads)
    t0 = time.perf_counter()
    nest.Simulate(a.warmup)
    warm = time.perf_counter() - t0
    sr.n_events = 0                       # keep only the main window's events
    t0 = time.perf_counter()
    nest.Simulate(a.T)
    run = time.perf_counter() - t0
    ev = sr.get("events")
    return dict(build_s=build, warmup_s=warm, sim_s=run, senders=np.asarray(ev["senders"]),
                times=np.asarray(ev["times"], float) - a.warmup,
                info=f"NEST {nest.__version__} threads={nest.local_num_threads}")


def worker_brian2(net, spec, a, standalone):
    import numpy as np
    import brian2 as b2
    b2.prefs.logging.console_log_level = "WARNING"
    extra = {}
    if standalone:
        threads = a.threads or os.cpu_count()
        bdir = tempfile.mkdtemp(prefix="nestax_bench_b2cpp_")
        b2.set_device("cpp_standalone", directory=bdir, build_on_run=False)
        b2.prefs.devices.cpp_standalone.openmp_threads = threads
        # run the binary through a wrapper that records its own peak RSS (os.wait4)
        rss_file = os.path.join(bdir, "main_maxrss_kb")
        wrapper = ("import os,subprocess,sys;p=subprocess.Popen(sys.argv[2:]);_,s,r=os.wait4(p.pid,0);"
                   "open(sys.argv[1],'w').write(str(r.ru_maxrss));sys.exit(os.waitstatus_to_exitcode(s))")
        b2.prefs.devices.cpp_standalone.run_cmd_unix = [sys.executable, "-c", wrapper, rss_file, "./main"]
        info = f"Brian2 {b2.__version__} cpp_standalone openmp_threads={threads}"
    else:
        try:
            import Cython  # noqa: F401
            b2.prefs.codegen.target = "cython"
        except ImportError:
            b2.prefs.codegen.target = "numpy"
        info = f"Brian2 {b2.__version__} runtime target={b2.prefs.codegen.target}"
    net_, M, build = nw.va_brian2(spec, seed=a.seed)
    if standalone:
        net_.run(a.warmup * b2.ms)
        net_.run(a.T * b2.ms)
        dev = b2.get_device()
        t0 = time.perf_counter()
        dev.build(directory=bdir, compile=True, run=False, with_output=False)
        compile_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        dev.run(directory=bdir, with_output=False)
        proc = time.perf_counter() - t0
        run = float(dev._last_run_time)          # the main network.run loop, measured inside main
        warm = 0.0
        extra.update(compile_s=compile_s, build_s=build + max(proc - run, 0.0), build_python_s=build,
                     binary_wall_s=proc)
        try:
            with open(rss_file) as f:
                extra["peak_rss_mb"] = max(peak_rss_mb(), int(f.read()) / 1024.0)
        except OSError:
            pass
    else:
        t0 = time.perf_counter()
        net_.run(a.warmup * b2.ms)
        warm = time.perf_counter() - t0
        t0 = time.perf_counter()
        net_.run(a.T * b2.ms)
        run = time.perf_counter() - t0
    t = np.asarray(M.t / b2.ms, float)
    i = np.asarray(M.i, int)
    keep = t >= a.warmup - 1e-9
    out = dict(build_s=build, warmup_s=warm, sim_s=run, senders=i[keep] + 1, times=t[keep] - a.warmup,
               info=info)
    out.update(extra)
    if standalone:
        shutil.rmtree(bdir, ignore_errors=True)
    return out


def worker(a):
    net, simname = a.worker
    spec = spec_of(net, a.scale)
    if net == "one-neuron":
        # 100 s of one neuron: a 1 s warm-up, so nestax runs 10,000-step chunks (per-chunk host work
        # would otherwise show up as per-step overhead); every simulator gets the same warm-up
        a.warmup = max(a.warmup, 1000.0)
    if simname == "nestax":
        r = worker_nestax(net, spec, a)
    elif simname == "nest":
        r = worker_nest(net, spec, a)
    elif simname in ("brian2", "brian2-cpp"):
        r = worker_brian2(net, spec, a, standalone=simname == "brian2-cpp")
    else:
        raise SystemExit(f"unknown simulator {simname!r}")
    senders, times = r.pop("senders"), r.pop("times")
    rate, cv = nw.rate_and_cv(senders, times, spec.n_rec, a.T)
    for pop, (first, n) in rec_groups(spec).items():
        r[f"rate_{pop}_hz"] = float(((senders >= first) & (senders < first + n)).sum() / n / (a.T / 1000.0))
    if "compile_s" not in r:
        # compile = first (warm-up) call minus what its steps cost at the steady-state speed
        r["compile_s"] = max(r["warmup_s"] - r["sim_s"] * a.warmup / a.T, 0.0)
    r.update(network=net, simulator=simname, seed=a.seed, scale=a.scale, T_ms=a.T, warmup_ms=a.warmup, n_rec=spec.n_rec,
             spikes=int(len(times)), rate_hz=float(rate), cv=float(cv),
             peak_rss_mb=r.get("peak_rss_mb", peak_rss_mb()))
    print(json.dumps(r), flush=True)


# ==================================================================================================
# driver
# ==================================================================================================
def brian_python(args):
    """The interpreter for Brian2 workers: --brian-python, $BRIAN2_PYTHON, or this one."""
    return args.brian_python or os.environ.get("BRIAN2_PYTHON") or sys.executable


def run_repeated(net, simname, T, args):
    """``args.repeat`` runs of one (network, simulator); the median of each timing and of peak RSS
    (the runs' spread is kept as ``sim_s_runs``). Spike counts must not change between runs."""
    runs = [run_one(net, simname, T, args) for _ in range(max(1, args.repeat))]
    ok = [r for r in runs if "error" not in r]
    if len(ok) < len(runs):
        return next(r for r in runs if "error" in r)
    r = dict(ok[0])
    if len(ok) > 1:
        for k in ("build_s", "compile_s", "sim_s", "peak_rss_mb", "wall_s"):
            if k in r:
                r[k] = float(sorted(x[k] for x in ok)[len(ok) // 2])
        r["sim_s_runs"] = [x["sim_s"] for x in ok]
        if len({x["spikes"] for x in ok}) > 1:
            r["info"] = (r.get("info", "") + f" spikes differ between runs: {[x['spikes'] for x in ok]}").strip()
    return r


def run_one(net, simname, T, args):
    py = brian_python(args) if simname.startswith("brian2") else sys.executable
    cmd = [py, os.path.abspath(__file__), "--worker", net, simname, "--T", str(T),
           "--warmup", str(args.warmup)]
    if args.float32:
        cmd.append("--float32")
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    seed = args.nestax_seed if (simname == "nestax" and args.nestax_seed is not None) else args.seed
    cmd += ["--seed", str(seed), "--scale", str(args.scale)]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return dict(network=net, simulator=simname, error=f"timeout after {args.timeout} s")
    wall = time.perf_counter() - t0
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        err = (p.stderr.strip().splitlines() or ["(no output)"])[-1]
        if args.verbose:
            sys.stderr.write(p.stderr)
        return dict(network=net, simulator=simname, error=f"rc={p.returncode}: {err}"[:300])
    r = json.loads(lines[-1])
    r["wall_s"] = wall
    return r


def check(rows):
    """Mark each non-NEST row OK / MISMATCH against the NEST row of the same network."""
    nest = {r["network"]: r for r in rows if r["simulator"] == "nest" and "error" not in r}
    for r in rows:
        if r["simulator"] == "nest" or "error" in r:
            r["check"] = "ref" if r["simulator"] == "nest" and "error" not in r else "-"
            continue
        ref = nest.get(r["network"])
        if ref is None:
            r["check"] = "no ref"
            continue
        r["ratio_sim"] = r["sim_s"] / ref["sim_s"] if ref["sim_s"] > 0 else float("nan")
        r["ratio_build"] = r["build_s"] / ref["build_s"] if ref["build_s"] > 0 else float("nan")
        brian = r["simulator"].startswith("brian2")
        rt, ct = (RATE_TOL_BRIAN, CV_TOL_BRIAN) if brian else (RATE_TOL, CV_TOL)
        rate_ok = all(abs(r[k] - ref[k]) <= rt * max(ref[k], 1e-12)
                      for k in ("rate_hz", "rate_E_hz", "rate_I_hz") if k in r and k in ref)
        c1, c2 = r["cv"], ref["cv"]
        cv_ok = (c1 != c1 and c2 != c2) or abs(c1 - c2) <= ct      # both NaN (too few spikes) counts as equal
        r["check"] = "OK" if rate_ok and cv_ok else "MISMATCH"
        if brian:
            r["check"] += "~"
    return rows


def pop_rates(r):
    """' (E x Hz, I y Hz)' for rows with population rates, else ''."""
    pops = [(k[5:-3], v) for k, v in r.items() if k.startswith("rate_") and k.endswith("_hz") and k != "rate_hz"]
    return " (" + ", ".join(f"{p} {v:.2f} Hz" for p, v in pops) + ")" if pops else ""


def fmt(x, spec="{:.3f}"):
    if x is None:
        return "-"
    if isinstance(x, float) and x != x:
        return "nan"
    return spec.format(x)


def table(rows):
    cols = ["network", "simulator", "build s", "compile s", "simulate s", "peak RSS MB", "spikes",
            "rate Hz", "E Hz", "I Hz", "CV", "sim x NEST", "build x NEST", "check"]
    out = []
    for r in rows:
        if "error" in r:
            out.append([r["network"], r["simulator"], "ERROR: " + r["error"]] + [""] * (len(cols) - 3))
            continue
        out.append([r["network"], r["simulator"], fmt(r["build_s"]), fmt(r["compile_s"]), fmt(r["sim_s"]),
                    fmt(r["peak_rss_mb"], "{:.0f}"), str(r["spikes"]), fmt(r["rate_hz"], "{:.2f}"),
                    fmt(r.get("rate_E_hz"), "{:.2f}"), fmt(r.get("rate_I_hz"), "{:.2f}"), fmt(r["cv"], "{:.3f}"), fmt(r.get("ratio_sim"), "{:.2f}"),
                    fmt(r.get("ratio_build"), "{:.2f}"), r.get("check", "")])
    err_rows = [o for o in out if o[2].startswith("ERROR")]
    w = [max(len(c), *(len(o[i]) for o in out if o not in err_rows)) if len(out) > len(err_rows) else len(c)
         for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w[i]) if i < 2 else c.rjust(w[i]) for i, c in enumerate(cols))]
    lines.append("  ".join("-" * x for x in w))
    for o in out:
        if o in err_rows:
            lines.append("  ".join([o[0].ljust(w[0]), o[1].ljust(w[1]), o[2]]))
        else:
            lines.append("  ".join(v.ljust(w[i]) if i < 2 else v.rjust(w[i]) for i, v in enumerate(o)))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="T=100 ms (one neuron: 1 s), Brunel 2500 only")
    ap.add_argument("--only", "--networks", dest="only", default="",
                    help="comma-separated network names or substrings "
                    "(brunel, brunel-2500, cuba, coba, aeif, one-neuron); the opt-in hpc_benchmark, "
                    "brunel_tsodyks2, microcircuit and microcircuit-dc only by name (or 'hpc', 'tsodyks2', "
                    "'potjans')")
    ap.add_argument("--aeif", action="store_true", help="no effect (kept for old command lines): the aeif_cond_exp "
                    "network is in the default set")
    ap.add_argument("--seed", type=int, default=1, help="kernel seed (connectivity, Poisson input) of every "
                    "simulator (default 1)")
    ap.add_argument("--nestax-seed", type=int, default=None, help="kernel seed of the nestax workers only "
                    "(default: --seed). nestax and NEST draw different connectivity from the same seed; COBA "
                    "is marginal and dies out for some draws: nestax seeds 1-3 die, 4-5 survive; NEST seed 1 "
                    "survives, 4 dies with 2 threads (see benchmarks/README.md)")
    ap.add_argument("--sizes", default=None, help="Brunel sizes, comma-separated from 2500,12500,50000 "
                    "(default 2500,12500; --quick: 2500)")
    ap.add_argument("--big", action="store_true", help="add Brunel N=50000 (order 10000, CE=1000)")
    ap.add_argument("--simulators", default=",".join(SIMULATORS),
                    help="subset of nestax,nest,brian2,brian2-cpp (Brian2 runs CUBA/COBA only)")
    ap.add_argument("--scale", type=float, default=1.0, help="size of the opt-in networks: hpc_benchmark has "
                    "scale * 11250 neurons (in-degrees stay 9000 / 2250), brunel_tsodyks2 order 2500 * scale "
                    "(CE = 0.1 NE), microcircuit N_scaling = K_scaling (default 1; e.g. 0.1 for a quick run)")
    ap.add_argument("--T", type=float, default=None, help="biological time in ms (default 1000; --quick 100)")
    ap.add_argument("--T-one", type=float, default=None, help="one-neuron time in ms (default 100000; --quick 1000)")
    ap.add_argument("--warmup", type=float, default=100.0, help="warm-up simulate in ms, timed separately; nestax runs "
                    "in chunks of this length, so the warm-up compiles the code the timed run reuses (100)")
    ap.add_argument("--float32", action="store_true", help="nestax in float32 (default float64, jax_enable_x64)")
    ap.add_argument("--threads", type=int, default=0, help="NEST/Brian2-cpp threads (default os.cpu_count())")
    ap.add_argument("--brian-python", default=None,
                    help="Python interpreter with brian2 for the Brian2 workers (default $BRIAN2_PYTHON or this one)")
    ap.add_argument("--timeout", type=float, default=3600.0, help="per-worker timeout in s")
    ap.add_argument("--repeat", type=int, default=1, help="runs per (network, simulator); the table shows medians "
                    "(docs/performance.md: 3)")
    ap.add_argument("--json", default=None, help="also write all rows to this JSON file")
    ap.add_argument("--keep-cache", action="store_true",
                    help="use nestax's persistent JAX compile cache (default: a fresh empty one, so that "
                         "'compile s' is a cold compile)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print failing workers' stderr")
    ap.add_argument("--worker", nargs=2, metavar=("NETWORK", "SIMULATOR"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.worker:
        a.T = a.T if a.T is not None else 1000.0
        return worker(a)

    if a.sizes is None:
        a.sizes = "2500" if a.quick else "2500,12500"
    T = a.T if a.T is not None else (100.0 if a.quick else 1000.0)
    T_one = a.T_one if a.T_one is not None else (1000.0 if a.quick else 100_000.0)
    cache = None
    if not a.keep_cache:
        cache = tempfile.mkdtemp(prefix="nestax_bench_cache_")
        os.environ["NESTAX_CACHE_DIR"] = cache
        # the native kernels' one-time C++ build (seconds, once per machine) is not part of 'compile s'
        subprocess.run([sys.executable, "-m", "nestax.engine.native"], capture_output=True, timeout=600)

    print(f"# nestax vs NEST 3.10 benchmarks: dt = 0.1 ms, T = {T:g} ms (one-neuron {T_one:g} ms), "
          f"warm-up {a.warmup:g} ms, nestax {'float32' if a.float32 else 'float64'}, "
          f"NEST threads = {a.threads or os.cpu_count()}, cpus = {os.cpu_count()}, seed = {a.seed}"
          + (f" (nestax: {a.nestax_seed})" if a.nestax_seed is not None else "")
          + f", scale (hpc_benchmark, brunel_tsodyks2) = {a.scale:g}", flush=True)
    rows = []
    for net in network_names(a):
        for s in simulators_for(net, a):
            t_ = T_one if net == "one-neuron" else T
            r = run_repeated(net, s, t_, a)
            rows.append(r)
            msg = r.get("error") or (f"build {r['build_s']:.2f} s, compile {r['compile_s']:.2f} s, "
                                      f"simulate {r['sim_s']:.2f} s, {r['spikes']} spikes, "
                                      f"{r['rate_hz']:.2f} Hz{pop_rates(r)}, CV {r['cv']:.3f}  "
                                      f"[{r.get('info', '')}]")
            print(f"  {net:12s} {s:10s} {msg}", file=sys.stderr, flush=True)
    check(rows)
    print()
    print(table(rows))
    print()
    print(f"check: nestax vs NEST: population rate (and E, I rates where given) within {RATE_TOL:.0%} and "
          f"mean ISI CV within {CV_TOL:g} "
          f"-> OK / MISMATCH; Brian2 (marked ~) vs NEST, loosely: rate within {RATE_TOL_BRIAN:.0%}, "
          f"CV within {CV_TOL_BRIAN:g}.")
    print("compile s = warm-up call minus its steps at steady-state speed (nestax: plan + XLA compile; "
          "NEST: its first-Simulate preparation; Brian2 runtime: code generation; brian2-cpp: "
          "code generation + C++ compile).  sim/build x NEST = this row / the NEST row.")
    for r in rows:
        if "info" in r:
            print(f"  {r['network']:12s} {r['simulator']:10s} {r['info']}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    if cache:
        shutil.rmtree(cache, ignore_errors=True)
    return 0 if all("error" not in r and r.get("check") != "MISMATCH" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
