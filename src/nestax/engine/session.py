"""The run side of a Simulator: one network's lowered program, its device state and its time.

:class:`~nestax.simulator.Simulator` stores and checks what the user builds (a
:class:`~nestax.network.Network`); a :class:`Session` lowers that network, keeps the compiled chunk
functions and the device state between ``simulate`` calls, runs a window of steps into a
:class:`~nestax.recording.window.Window`, and copies the device state back into the network when
the host needs it (``pull``).
"""
from __future__ import annotations

import os
import time as _time

import jax

from .lower import block_params, initial_run_state, lower
from .run import Runner
from ..network.store import available_memory
from ..recording.backends import make_writers
from ..recording.window import Window, duration_steps

_cache_checked = False


def enable_compile_cache():
    """JAX's persistent compilation cache in ~/.cache/nestax/jax (or $NESTAX_CACHE_DIR), switched on
    when the first Simulator is made, only if the user has configured none; NESTAX_CACHE_DIR=off
    leaves it off. Importing nestax changes no JAX setting."""
    global _cache_checked
    if _cache_checked:
        return
    _cache_checked = True
    path = os.environ.get("NESTAX_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "nestax", "jax"))
    if path.lower() in ("off", "0", "none", "") or jax.config.jax_compilation_cache_dir:
        return
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


def same_plan(a, b) -> bool:
    """Two lowered plans compile to the same program (equal static structure)."""
    try:
        return bool(a == b)
    except (ValueError, TypeError):  # arrays among the static values: compare them one by one
        return False


class Session:
    """The compiled run of one Simulator's network and its state on the device.

    ``runner`` is None until the network is lowered (and again after any structural change);
    ``fresh`` says the device state must be rebuilt from the network (the host changed it);
    ``stale`` says the device state has moved on since the network was last updated."""

    def __init__(self, sim):
        self.sim = sim
        self.runner = None          # the lowered, compiled network and its device state
        self.fresh = True           # the runner's state must be rebuilt from the network
        self.stale = False          # the device state has moved on since the network was last updated
        self.carried = {}           # input in flight and archives, kept across a rebuild
        self.pending_row0 = {}      # spike recorder gid -> (gids, counts) stamped exactly at the current step
        self.capacity = {}          # source block -> spikes per step in one scatter (fixed-capacity delivery)
        self.compiled = None        # (plan, models, chunk, compiled chunk functions) of the last lowering

    # ------------------------------------------------------------------ lifecycle
    def structure_changed(self):
        """Nodes, connections or device tables changed: lower again at the next run."""
        self.runner = None
        self.fresh = True

    def restart(self):
        """Back to t = 0: nothing in flight, no kept events."""
        self.fresh = True
        self.pending_row0 = {}
        self.carried = {}

    def pull(self):
        """Copy the device state back into the network (for reading it) if the run has moved on."""
        if self.runner is not None and not self.fresh and self.stale:
            self.carried = self.runner.sync_to(self.sim._net, self.sim.k)
            self.stale = False

    def invalidate(self):
        """Before the host changes the network: pull the device state; rebuild it at the next run."""
        self.pull()
        self.fresh = True

    def refresh_params(self, changed):
        """Neuron parameters set between runs: they are arguments of the compiled run, so the lowered
        arrays take the new values (no recompilation). ``changed``: the blocks whose params changed."""
        if self.runner is None:
            return
        net, dtype = self.sim._net, self.sim._float()
        arrays = dict(self.runner.low.arrays)
        # (entries the lowering adds to a block's parameters, such as own_port_weights, stay)
        arrays["params"] = {**arrays["params"], **{
            b: {**arrays["params"][b], **jax.device_put(block_params(blk, dtype))}
            for b, blk in enumerate(net.blocks) if any(blk is c for c in changed)}}
        self.runner.low.arrays = arrays

    def prepare(self) -> Runner:
        """The runner of the network, lowered and with a run state at the current step."""
        sim = self.sim
        net, dtype = sim._net, sim._float()
        if getattr(self.runner, "base", None) is not None:  # after a run split over devices: one device again
            self.pull()
            self.runner, self.fresh = self.runner.base, True
        if self.runner is None:
            capacity = self.capacity if os.environ.get("NESTAX_DELIVERY", "loop") == "capacity" else None
            # Measured on an H200 (Brunel 12,500): the looping kernel ran 1536 steps/s, the fixed-capacity
            # kernel 323 steps/s (the capacity grows to the largest burst), so looping is the default.
            low = lower(net, dtype, sim.seed, sim.chunk_bytes, sim.max_chunk, capacity,
                        precise_capacity=sim.precise_capacity)
            runner = Runner(low, None, capacity)
            # a network lowered again with the same plan (new weights, device parameters, spike times
            # set between runs) reuses the compiled chunk functions: their arrays are arguments
            old = self.compiled
            if old is not None and old[2] == low.chunk and old[1] == low.models and same_plan(old[0], low.plan):
                runner._fns = old[3]
            self.compiled = (low.plan, low.models, low.chunk, runner._fns, capacity)
            self.runner = runner
            self.fresh = True
        if self.fresh:
            self.runner.state = initial_run_state(net, self.runner.low, sim.k, dtype, sim.stdp_history,
                                                  self.carried, int(sim.step_history))
            # (carried stays: it describes this state until a run moves it on and a pull replaces it)
            self.fresh = False
        return self.runner

    # ------------------------------------------------------------------ run
    def simulate(self, duration, progress: bool = False, devices=None):
        """Advance the network by ``duration``; the recordings of this window as a Result."""
        sim = self.sim
        net = sim._net
        T, n_steps = duration_steps(duration, sim.dt)
        writers = make_writers(sim, net)  # record_to 'ascii'/'screen': every file check before the run
        t_build = _time.perf_counter()
        if sim.k == 0:
            sim._t0 = net.snapshot()  # what reset() returns to
        if devices is None:
            runner = self.prepare()
        else:
            from . import shard
            runner = shard.prepare(sim, devices)
        sim.timings["prepare_s"] = _time.perf_counter() - t_build
        k0 = sim.k
        window = Window(net, runner.low, k0, n_steps, self.pending_row0, sim, writers)
        window.open(T, available_memory(), progress)

        def on_chunk(out, k, n_valid):
            window.add(out, k, n_valid)
            sim.k = k + n_valid  # time says how far the kept state is
            self.stale = True

        try:
            runner.run(k0, n_steps, on_chunk, window.bar)
        except BaseException:
            # an interrupt or error inside a chunk: the state, time and recordings are those of the
            # last completed chunk; the next simulate continues from there
            sim.partial_result = window.interrupted(sim.k)
            raise
        finally:
            window.close_bar()
            sim.timings.update(runner.timings)
        error = runner.overflow_error(sim.stdp_history, sim.step_history)
        if error is not None:
            window.fail(error)
        res = window.finish()
        if sim._kept.keeping(net):
            sim._kept.add(k0, res)
        return res
