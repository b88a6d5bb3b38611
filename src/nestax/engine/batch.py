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
from .run import Runner, _interrupts_deferred, make_chunk_fn, recorded_bytes_per_step
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
    stack = _Stacker(K)
    for i in range(K):
        with apply(i):
            low = lower(net, dtype, int(seeds[i]), **lower_kw)
            st = initial_run_state(net, low, k, dtype, **state_kw)
        stack.add(i, low, st)
    return stack.finish()


def lower_networks(nets, seeds, dtype, k: int, lower_kw: dict, state_kw) -> Variants:
    """Lower K networks of the same node structure whose connections differ (each built with its own
    seed: ``nx.Batch.build``). Their plans differ only in sizes that depend on the draw; the arrays are
    padded to common shapes (:func:`align`) so that one compiled program runs them all.
    ``state_kw``: the further arguments of initial_run_state per network (a list) or for all."""
    lows = [lower(net, dtype, int(s), **lower_kw) for net, s in zip(nets, seeds)]
    align(lows, nets)
    stack = _Stacker(len(nets))
    for i, (net, low) in enumerate(zip(nets, lows)):
        kw = state_kw[i] if isinstance(state_kw, (list, tuple)) else state_kw
        stack.add(i, low, initial_run_state(net, low, k, dtype, **kw))
        lows[i] = None  # (its arrays are in the stack now)
    return stack.finish()


class _Stacker:
    """Collects the K lowered variants one by one: keeps variant 0's arrays and only the leaves that
    differ from them, and stacks the run states."""

    def __init__(self, K: int):
        self.K = K
        self.base = None
        self.a_diff, self.s_stack = {}, None

    def add(self, i: int, low, st):
        K = self.K
        a_pl, a_def = jax.tree_util.tree_flatten_with_path(low.arrays)
        a_flat = [np.asarray(x) for _, x in a_pl]
        s_flat, s_def = jax.tree.flatten(st)
        s_flat = [np.asarray(x) for x in s_flat]
        if self.base is None:
            self.base, self.a_leaves, self.a_tree, self.s_tree = low, a_flat, a_def, s_def
            self.a_paths = [path for path, _ in a_pl]
            self.s_stack = [np.empty((K,) + x.shape, x.dtype) for x in s_flat]
        else:
            base, a_leaves, a_paths, s_stack = self.base, self.a_leaves, self.a_paths, self.s_stack
            what = None
            if not (same_plan(low.plan, base.plan) and low.models == base.models):
                what = f"the compiled program's structure (its plan: {plan_difference(base, low)})"
            elif a_def != self.a_tree:
                what = "the layout of the network's arrays"
            else:
                for j, (x, y) in enumerate(zip(a_flat, a_leaves)):
                    if (x.shape != y.shape or x.dtype != y.dtype) and _pad_of(base, a_paths[j]) is None:
                        what = (f"the layout of the network's arrays ({jax.tree_util.keystr(a_paths[j])}: shape "
                                f"{x.shape} {x.dtype}, variant 0: {y.shape} {y.dtype})")
                        break
            if what is None and (s_def != self.s_tree or any(x.shape != y.shape[1:] or x.dtype != y.dtype
                                                             for x, y in zip(s_flat, s_stack))):
                what = "the layout of the run state"
            if what is not None:
                raise NestaxError(
                    f"Batch: variant {i} changes {what}, so it cannot share one compiled program with variant 0; "
                    "only values the run takes as arrays may vary (neuron and device parameters, state, synapse "
                    "weights and parameters, seeds), not delays that lengthen the ring buffer, the number of "
                    "receptor ports, or values that switch a projection's kernel or a device's compiled "
                    "variant. Run such variants as separate Simulators (or Batches).")
            for j, (x, y) in enumerate(zip(a_flat, a_leaves)):
                if j not in self.a_diff and (x.shape != y.shape or not np.array_equal(x, y, equal_nan=True)):
                    self.a_diff[j] = {}
                if j in self.a_diff:
                    self.a_diff[j][i] = x
        for j, x in enumerate(s_flat):
            self.s_stack[j][i] = x

    def finish(self) -> Variants:
        K, base, a_diff = self.K, self.base, self.a_diff
        batched = [j in a_diff for j in range(len(self.a_leaves))]
        leaves = []
        for j, x in enumerate(self.a_leaves):
            if not batched[j]:
                leaves.append(x)
                continue
            vals = [a_diff[j].get(i, x) for i in range(K)]
            n = max(len(v) for v in vals)
            if any(len(v) != n for v in vals):  # tables of other lengths: lengthened as their model says
                pad = _pad_of(base, self.a_paths[j])
                vals = [v if len(v) == n else np.asarray(pad(v, n), v.dtype) for v in vals]
            leaves.append(np.stack(vals))
        return Variants(base, leaves, batched, self.a_tree, self.s_stack, self.s_tree, K)


def _proj_name(low, j) -> str:
    pp = low.plan.projections[j]
    src = low.models[pp.src_block].name
    tgt = "spike recorder" if pp.tgt_block < 0 else low.models[pp.tgt_block].name if pp.mode.startswith(
        "plastic") else "its targets"
    return f"projection {j} ({pp.mode}, from {src} to {tgt})"


def plan_difference(a, b) -> str:
    """What differs between the plans of two Lowered (for error messages)."""
    pa, pb = a.plan, b.plan
    if len(pa.projections) != len(pb.projections):
        return f"{len(pb.projections)} projections instead of {len(pa.projections)}"
    for j, (x, y) in enumerate(zip(pa.projections, pb.projections)):
        for f in dataclasses.fields(x):
            if getattr(x, f.name) != getattr(y, f.name):
                return f"{_proj_name(a, j)}: {f.name} {getattr(y, f.name)!r} instead of {getattr(x, f.name)!r}"
    for field in (f.name for f in dataclasses.fields(pa)):
        if field != "projections" and not same_plan(getattr(pa, field), getattr(pb, field)):
            return f"{field} differs"
    return "the models differ" if a.models != b.models else "unknown"


#: ProjectionPlan fields that may differ between independently drawn networks (align normalises them)
_DRAWN = ("n_syn", "row_len", "t_range", "const_w", "const_d", "contiguous")


def align(lows, nets=None):
    """Make the Lowered of networks with the same nodes but other connections (drawn with other seeds)
    run one compiled program: pad every static projection's arrays to the largest variant (event rows
    to the longest row, with the padding aimed at the spare ring column; dense lists to the most
    synapses, with entries of weight 0 into the spare column), expand a constant weight or delay to
    full arrays where the variants disagree, take the union of the target ranges, the longest ring;
    then the plans must be equal (else NestaxError naming what differs). Changes ``lows`` in place.

    A pad entry adds nothing anyone reads: the spare column of each ring row is never read, and a
    real entry's sum is the same with or without the extra entries, so each variant's run is bit for
    bit its own Simulator's.
    """
    base = lows[0]
    for i, low in enumerate(lows[1:], 1):
        if len(low.plan.projections) != len(base.plan.projections) or low.models != base.models:
            raise NestaxError(f"Batch.build: variant {i}'s network lowers to other projections than variant 0's "
                              f"({plan_difference(base, low)}); every variant must create the same nodes and "
                              "make the same connect calls.")
    for i, low in enumerate(lows[1:], 1):  # weight_recorder events are labelled with variant 0's layout
        a, b = jax.tree.leaves(base.rec_layout.get("wr", {})), jax.tree.leaves(low.rec_layout.get("wr", {}))
        if len(a) != len(b) or any(np.shape(x) != np.shape(y) or not np.array_equal(x, y) for x, y in zip(a, b)):
            raise NestaxError(f"Batch.build: the connections a weight_recorder logs differ between variant 0 and "
                              f"variant {i}; a batch labels every variant's weight events with one layout. Run "
                              "these seeds as separate Simulators, or record the weights without a weight_recorder.")
    pad_index = base.plan.pad_index
    for j, pp0 in enumerate(base.plan.projections):
        pps = [low.plan.projections[j] for low in lows]
        arrs = [low.arrays["proj"][j] for low in lows]
        for i, pp in enumerate(pps[1:], 1):
            if pp.mode != pp0.mode:
                raise NestaxError(
                    f"Batch.build: {_proj_name(base, j)} is delivered in mode {pp.mode!r} in variant {i} "
                    f"({pp.n_syn} synapses) and {pp0.mode!r} in variant 0 ({pp0.n_syn} synapses): its number of "
                    "synapses crosses the threshold of event delivery, and the two modes add in other orders. "
                    "Run these seeds as separate Simulators.")
        sizes = {(pp.n_syn, pp.row_len, pp.const_w, pp.const_d) for pp in pps}
        shapes = {tuple(sorted((k, np.shape(v)) for k, v in a.items())) for a in arrs}
        if len(sizes) == 1 and len(shapes) == 1:
            if pp0.mode == "event":
                lo, hi = min(pp.t_range[0] for pp in pps), max(pp.t_range[1] for pp in pps)
                for pp in pps:
                    pp.t_range = (lo, hi)
            continue
        if pp0.mode == "event":
            _align_event(pps, arrs, pad_index)
        elif pp0.mode == "dense" and not (pp0.thin or pp0.table or any("tgt_neg" in a for a in arrs)
                                          or any(j in low.conn_keys for low in lows)):
            _align_dense(pps, arrs, pad_index)
        else:
            why = ("its connections draw random numbers per synapse" if pp0.thin else
                   "its source keeps state per connection or a table per target" if pp0.mode == "dense" else
                   f"projections of kind {pp0.mode!r} are not padded")
            raise NestaxError(
                f"Batch.build: {_proj_name(base, j)} has other numbers of synapses in different variants "
                f"({sorted({pp.n_syn for pp in pps})}), which a batch cannot pad: {why}. Connect it with a "
                "rule that draws the same number of synapses for every seed (fixed_indegree, fixed_outdegree, "
                "fixed_total_number, all_to_all), or run these seeds as separate Simulators.")
        for low, a in zip(lows, arrs):
            low.arrays["proj"][j] = a
    # the longest ring serves all (a slot is chosen modulo D: a longer ring changes no sum)
    D = max(low.plan.D for low in lows)
    for low in lows:
        low.plan.D = D
    steps = {low.plan.slice_steps for low in lows}
    if len(steps) > 1:
        uses = bool(base.plan.mod_blocks or base.plan.gap is not None or any(rp.source for rp in base.plan.rate_projections)
                    or any(getattr(m, "device_window", False) or getattr(m, "update_takes_step", False)
                           for m in base.models.values()))
        if uses:
            raise NestaxError(
                f"Batch.build: the variants' shortest delays differ ({sorted(steps)} steps), and this network has "
                "parts that follow NEST's min_delay slices (modulated synapses, gap junctions, rate sources or "
                "devices with slice windows). Give the variants the same shortest delay, or run them as "
                "separate Simulators.")
        for low in lows:  # nothing reads it
            low.plan.slice_steps = base.plan.slice_steps
    for i, low in enumerate(lows[1:], 1):
        if not same_plan(low.plan, base.plan):
            raise NestaxError(f"Batch.build: variant {i}'s network compiles to another program than variant 0's "
                              f"({plan_difference(base, low)}); every variant must create the same nodes, with "
                              "the same models and settings, and make the same connect calls.")
    return lows


def _host_dict(a):
    return {k: np.asarray(v) for k, v in a.items()}


def _align_event(pps, arrs, pad_index):
    M = max(pp.row_len for pp in pps)
    cw, cd = all(pp.const_w for pp in pps), all(pp.const_d for pp in pps)
    lo, hi = min(pp.t_range[0] for pp in pps), max(pp.t_range[1] for pp in pps)
    for i, (pp, a) in enumerate(zip(pps, arrs)):
        a = _host_dict(a)
        T = a["tgt"]
        rows, m = T.shape
        filled = T != pad_index  # (no synapse targets the spare column)
        Tn = np.full((rows, M), pad_index, T.dtype)
        Tn[:, :m] = T
        a["tgt"] = Tn
        for name, const, keep, fill in (("w", pp.const_w, cw, 0), ("d", pp.const_d, cd, 1)):
            v = a[name]
            if const and keep:
                continue
            full = np.full((rows, M), fill, v.dtype)
            full[:, :m] = np.where(filled, v[0], fill) if const else v
            a[name] = full
        arrs[i] = a
        pp.row_len, pp.const_w, pp.const_d, pp.t_range = M, cw, cd, (lo, hi)
        pp.n_syn = max(q.n_syn for q in pps)


def _align_dense(pps, arrs, pad_index):
    N = max(pp.n_syn for pp in pps)
    cw, cd = all(pp.const_w for pp in pps), all(pp.const_d for pp in pps)
    contiguous = all(pp.contiguous for pp in pps) and len({pp.n_syn for pp in pps}) == 1
    for i, (pp, a) in enumerate(zip(pps, arrs)):
        a = _host_dict(a)
        n = pp.n_syn
        for name, fill in (("src", 0), ("tgt", pad_index)):
            a[name] = np.concatenate([a[name], np.full(N - n, fill, a[name].dtype)])
        for name, const, keep, fill in (("w", pp.const_w, cw, 0), ("d", pp.const_d, cd, 1)):
            v = a[name]
            if const and keep:
                continue
            a[name] = np.concatenate([np.broadcast_to(v, (n,)) if const else v, np.full(N - n, fill, v.dtype)])
        arrs[i] = a
        pp.n_syn, pp.const_w, pp.const_d, pp.contiguous = N, cw, cd, contiguous


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

    def step_bytes(self) -> int:
        """Host bytes one step's recordings of a whole group take (traced)."""
        _, arrays, axes, state = self.groups[0]
        return recorded_bytes_per_step(self.low.plan, self.low.models, arrays, state, axes)

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
