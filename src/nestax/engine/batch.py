"""Batched runs: K variants of one lowered network in one compiled program.

A variant is the same network with other values: parameters of nodes, state, synapse values, and
the seed of the run's random streams. Each variant is lowered by :func:`~nestax.engine.lower.lower`
exactly as a Simulator with those values would lower it, so it runs the very same arrays and keys;
what may vary is therefore everything the compiled run takes as an array argument. The variants must
agree on the static plan (the compiled program's structure): a value that changes it (a delay that
lengthens the ring, a parameter that adds receptor ports) is refused with an error naming it.

Leaves of the arrays pytree that are equal in every variant (connectivity, most parameters) are
shared; the others get a leading variant axis, as does every leaf of the run state. The chunk
function of :mod:`nestax.engine.run` runs under ``jax.vmap`` over that axis; when the K variants do
not fit in memory at once they run in groups of ``group`` variants, one after the other, through the
same compiled function (the last group padded with copies of its last variant).

Checks between chunks see every variant: the fixed-capacity delivery grows to the largest burst of
any variant, a precise-input overflow or a plastic synapse's history overflow in any variant stops
the run with the usual error.
"""
from __future__ import annotations

import dataclasses

import jax
import numpy as np

from . import precise as ps
from .lower import initial_run_state, lower
from .run import Runner, _interrupts_deferred, make_chunk_fn
from .session import same_plan
from ..errors import NestaxError


@dataclasses.dataclass
class Variants:
    """K lowered variants of one network: the shared plan, the stacked arrays and run states."""
    low: "object"            # the Lowered of variant 0 (plan, models, layouts; its arrays: variant 0's)
    arrays_leaves: list      # per leaf of the arrays pytree: one array (shared) or a (K, ...) stack
    arrays_batched: list     # per leaf: True when it has the variant axis
    arrays_def: object       # the arrays' treedef
    state_leaves: list       # per leaf of the run state: a (K, ...) stack
    state_def: object
    K: int

    def arrays(self, sel):
        """The arrays pytree of variants ``sel`` (an index array) and its vmap axes."""
        leaves = [x[sel] if b else x for x, b in zip(self.arrays_leaves, self.arrays_batched)]
        axes = [0 if b else None for b in self.arrays_batched]
        return jax.tree.unflatten(self.arrays_def, leaves), jax.tree.unflatten(self.arrays_def, axes)

    def state(self, sel):
        return jax.tree.unflatten(self.state_def, [x[sel] for x in self.state_leaves])

    def variant_bytes(self) -> int:
        """Device bytes one more variant costs: its own array leaves and its run state."""
        own = sum(x[0].nbytes for x, b in zip(self.arrays_leaves, self.arrays_batched) if b)
        return int(own + sum(x[0].nbytes for x in self.state_leaves))


def _host(tree):
    return [np.asarray(x) for x in jax.tree.leaves(tree)]


def lower_variants(net, K: int, apply, seeds, dtype, k: int, lower_kw: dict, state_kw: dict) -> Variants:
    """Lower the K variants of ``net``. ``apply(i)`` is a context manager that puts variant i's values
    into the network for the duration of its lowering (and takes them out again); ``seeds[i]`` is its
    seed. ``lower_kw`` / ``state_kw``: the further arguments of lower / initial_run_state."""
    base = None
    a_leaves = a_paths = None
    a_diff, s_stack = {}, None
    for i in range(K):
        with apply(i):
            low = lower(net, dtype, int(seeds[i]), **lower_kw)
            st = initial_run_state(net, low, k, dtype, **state_kw)
        a_pl, a_def = jax.tree_util.tree_flatten_with_path(low.arrays)
        a_flat = [np.asarray(x) for _, x in a_pl]
        s_flat, s_def = jax.tree.flatten(st)
        s_flat = [np.asarray(x) for x in s_flat]
        if base is None:
            base, a_leaves, a_tree, s_tree = low, a_flat, a_def, s_def
            a_paths = [path for path, _ in a_pl]
            s_stack = [np.empty((K,) + x.shape, x.dtype) for x in s_flat]
        else:
            what = None
            if not (same_plan(low.plan, base.plan) and low.models == base.models):
                what = "the compiled program's structure (its plan)"
            elif a_def != a_tree or any((x.shape != y.shape or x.dtype != y.dtype) and _pad_of(base, a_paths[j]) is None
                                        for j, (x, y) in enumerate(zip(a_flat, a_leaves))):
                what = "the layout of the network's arrays"
            elif s_def != s_tree or any(x.shape != y.shape[1:] or x.dtype != y.dtype for x, y in zip(s_flat, s_stack)):
                what = "the layout of the run state"
            if what is not None:
                raise NestaxError(
                    f"Batch: variant {i} changes {what}, so it cannot share one compiled program with variant 0; "
                    "only values the run takes as arrays may vary (neuron and device parameters, state, synapse "
                    "weights and parameters, seeds), not delays that lengthen the ring buffer, the number of "
                    "receptor ports, or values that switch a projection's kernel or a device's compiled "
                    "variant. Run such variants as separate Simulators (or Batches).")
            for j, (x, y) in enumerate(zip(a_flat, a_leaves)):
                if j not in a_diff and (x.shape != y.shape or not np.array_equal(x, y, equal_nan=True)):
                    a_diff[j] = {}
                if j in a_diff:
                    a_diff[j][i] = x
        for j, x in enumerate(s_flat):
            s_stack[j][i] = x
    batched = [j in a_diff for j in range(len(a_leaves))]
    leaves = []
    for j, x in enumerate(a_leaves):
        if not batched[j]:
            leaves.append(x)
            continue
        vals = [a_diff[j].get(i, x) for i in range(K)]
        n = max(len(v) for v in vals)
        if any(len(v) != n for v in vals):  # tables of other lengths: lengthened as their model says
            pad = _pad_of(base, a_paths[j])
            vals = [v if len(v) == n else np.asarray(pad(v, n), v.dtype) for v in vals]
        leaves.append(np.stack(vals))
    return Variants(base, leaves, batched, a_tree, s_stack, s_tree, K)


def _pad_of(low, path):
    """For a spike source's table (arrays['proj'][j]['table']): its model's pad_table; else None."""
    keys = [getattr(p, "key", getattr(p, "idx", None)) for p in path]
    if len(keys) != 3 or keys[0] != "proj" or keys[2] != "table":
        return None
    model = low.models[low.plan.projections[keys[1]].src_block]
    probe = np.zeros(1)
    if model.pad_table(probe, 2) is None:
        return None
    return model.pad_table


class BatchRunner:
    """Runs the variants in groups of ``group``, each group under one vmapped compiled chunk function,
    and keeps every group's device state between ``simulate`` calls."""

    def __init__(self, variants: Variants, group: int, capacity=None):
        self.v = variants
        self.K = variants.K
        self.group = int(max(1, min(group, self.K)))
        self.capacity = capacity
        self.low = variants.low
        self._fns = {}
        self.timings = {}
        self.groups = []  # (variant indices (group,), arrays, axes, state)
        for g0 in range(0, self.K, self.group):
            idx = np.arange(g0, min(g0 + self.group, self.K))
            sel = np.concatenate([idx, np.full(self.group - len(idx), idx[-1])])  # padded with copies
            arrays, axes = variants.arrays(sel)
            self.groups.append([idx, arrays, axes, variants.state(sel)])
        # one group stays on the device; several take turns there (each group's arrays and state go
        # to the device for its run and its state comes back to the host after it)
        self.resident = len(self.groups) == 1
        if self.resident:
            g = self.groups[0]
            g[1], g[3] = jax.device_put(g[1]), jax.device_put(g[3])

    def _fn(self, n_valid, axes):
        chunk = self.low.chunk
        key = (chunk, n_valid < chunk)
        if key not in self._fns:
            fn = make_chunk_fn(self.low.plan, self.low.models, chunk, masked=n_valid < chunk)
            inner = getattr(fn, "__wrapped__", fn)  # the chunk function before jit: vmap it, then jit
            self._fns[key] = [jax.jit(jax.vmap(inner, in_axes=(axes, 0, None, None))), False]
        entry = self._fns[key]
        warm, entry[1] = entry[1], True
        return entry[0], warm

    def run(self, k, n_steps, on_chunk):
        """Run ``n_steps`` from step ``k`` for every group; ``on_chunk(i, out, k, n_valid)`` receives
        variant i's recordings of each chunk (host arrays, no variant axis)."""
        timing = [0.0, 0.0]
        for gi, group in enumerate(self.groups):
            idx, arrays, axes, state = group
            if not self.resident:
                arrays, state = jax.device_put(arrays), jax.device_put(state)
            done, kk = 0, k
            while done < n_steps:
                n_valid = min(self.low.chunk, n_steps - done)
                carry, out = self._run_fitting(lambda a=arrays, s=state, nv=n_valid: (*self._fn(nv, axes), a, s), kk,
                                               n_valid, timing)
                error = self._precise_error(carry)
                if error is not None:
                    raise error
                with _interrupts_deferred():
                    state = group[3] = carry if self.resident else jax.device_get(carry)
                    for j, i in enumerate(idx):
                        on_chunk(int(i), jax.tree.map(lambda x, j=j: x[j], out), kk, n_valid)
                state = carry
                kk += n_valid
                done += n_valid
            del arrays, state  # (a group that is not resident leaves the device)
        self.timings = {"first_chunk_s": timing[0], "run_s": timing[1]}
        return k + n_steps

    _run_fitting = Runner._run_fitting  # one chunk, rerun while its fixed capacity overflowed

    def _grow_capacity(self, carry) -> bool:
        """The fixed-capacity delivery's check, on the largest burst of any variant."""
        if not any(pp.capacity for pp in self.low.plan.projections):
            return False
        shim = Runner(self.low, None, self.capacity)
        shim._fns = self._fns
        grown = shim._grow_capacity({"max_active": {b: np.max(np.asarray(v)) for b, v in carry["max_active"].items()}})
        if grown:
            self._fns.clear()
        return grown

    def _precise_error(self, carry):
        if self.low.plan.precise is None:
            return None
        return ps.check_capacity(self.low.plan, {"pbuf": {"max": np.max(np.asarray(carry["pbuf"]["max"]))}})

    def overflow_error(self, stdp_history: int, step_history: int):
        """The history-overflow error of any variant (see Runner.overflow_error), else None."""
        flags = 0
        for g in self.groups:
            for f in np.asarray(g[3]["stdp_overflow"]).reshape(-1):
                flags |= int(f)
        return Runner(self.low, {"stdp_overflow": np.int32(flags)}).overflow_error(stdp_history, step_history)


def memory_budget() -> int | None:
    """Bytes of device memory free for a batch (None: unknown)."""
    try:
        stats = jax.devices()[0].memory_stats()
    except Exception:  # pragma: no cover - backends without stats
        stats = None
    if stats and "bytes_limit" in stats:
        return int(stats["bytes_limit"] - stats.get("bytes_in_use", 0))
    from ..network.store import available_memory
    return available_memory()
