"""Reading and making connections beyond one ``connect`` call: the selection behind
``sim.connections`` (NEST's GetConnections) with its columns, and NEST's TripartiteConnect.
Host-side NumPy over the network's connection records."""
from __future__ import annotations

import numpy as np

from .. import connect as cr
from ..errors import BadParameterError, ConnectionError_, did_you_mean
from .store import model_root, split_syn_spec


def select(net, model, src_gids, tgt_gids, label) -> list:
    """[(record index, positions)] of the connections of ``model`` (None: any; a model whose
    defaults were set counts as the model) from ``src_gids`` to ``tgt_gids`` (None: any) with
    synapse_label ``label`` (None: any)."""
    want = None if model is None else model_root(model)
    sel = []
    for ci, c in enumerate(net.conns):
        if want is not None and model_root(c.synapse) is not want:
            continue
        keep = np.ones(len(c), bool)
        if src_gids is not None:
            keep &= np.isin(c.src, src_gids)
        if tgt_gids is not None:
            keep &= np.isin(c.tgt, tgt_gids)
        if label is not None:
            keep &= ("synapse_label" in c.params) and c.take("synapse_label") == int(label)
        if keep.any():
            sel.append((ci, np.flatnonzero(keep)))
    return sel


def columns(net, sel) -> dict:
    """The columns of the connections ``sel``: ids, weights (in the targets' unit), delays (ms),
    receptors, model names, and every synapse parameter and state variable (NaN where a
    connection's model lacks it)."""
    parts = [(net.conns[ci], pos) for ci, pos in sel]
    if not parts:
        return dict(sources=np.zeros(0, int), targets=np.zeros(0, int), weight_values=np.zeros(0),
                    delay_values=np.zeros(0), receptors=np.zeros(0, int), synapse_models=[], extra={},
                    weight_unit="1")

    def cat(name):
        return np.concatenate([c.take(name, pos) for c, pos in parts])
    wunits = [net.weight_unit_of(c) for c, _ in parts]
    wunit = wunits[0] if len(set(wunits)) == 1 else "1"  # mixed units: plain numbers, each in its own
    extra = {}
    for i, (c, pos) in enumerate(parts):
        cols = {**{n: (c.take(n, pos), c.synapse.parameters[n].unit) for n in c.params},
                **{n: (c.state(n, pos), spec.unit)
                   for n, spec in c.synapse.connection_state.items() if not n.startswith("_")}}
        for n, (v, unit) in cols.items():
            if n not in extra:
                extra[n] = ([np.full(len(p), np.nan) for _, p in parts], wunit if unit == "weight" else unit)
            extra[n][0][i] = np.asarray(v, float)
    delays = np.concatenate([np.broadcast_to(c.delay_ms, (len(c),))[pos] if c.delay_ms is not None
                             else c.take("delay", pos) * net.dt for c, pos in parts])
    names = np.repeat(np.array([c.synapse.name for c, _ in parts]), [len(pos) for _, pos in parts])
    return dict(sources=cat("src").astype(np.int64), targets=cat("tgt").astype(np.int64), weight_values=cat("weight"),
                delay_values=delays, receptors=cat("receptor"), synapse_models=names.tolist(),
                extra={n: (np.concatenate(v), unit) for n, (v, unit) in extra.items()}, weight_unit=wunit)


def tripartite(net, pre_g, post_g, third_g, conn_spec, third_factor_conn_spec, syn_specs):
    """NEST's TripartiteConnect (see Simulator.tripartite_connect): checks everything, then stores the
    primary, third_in and third_out connections as one record each."""
    if isinstance(conn_spec, dict) and conn_spec.get("rule") == cr.LEGACY_TRIPARTITE:
        if third_factor_conn_spec is not None:
            raise BadParameterError(f"tripartite_connect: conn_spec rule {cr.LEGACY_TRIPARTITE!r} (NEST 3.6) "
                                    "already holds the third-factor settings; give either it alone or a "
                                    "primary rule with third_factor_conn_spec (NEST 3.10).")
        conn_spec, third_factor_conn_spec = cr.split_legacy_tripartite(conn_spec)
    if third_factor_conn_spec is None:
        raise BadParameterError("tripartite_connect: third_factor_conn_spec is missing; NEST requires it, "
                                "e.g. {'rule': 'third_factor_bernoulli_with_pool', 'p': 1.0, 'pool_size': 1, "
                                "'pool_type': 'random'}.")
    primary = cr.make_rule(conn_spec, {})
    if primary.make_symmetric:
        raise BadParameterError(f"tripartite_connect: rule {primary.name} with make_symmetric=True is "
                                "refused (NEST: 'Third-factor connectivity cannot be used with "
                                "make_symmetric == True').")
    tf = cr.make_third_rule(third_factor_conn_spec)
    cr.check_third(tf, len(post_g), len(third_g))
    for gids, what in ((pre_g, "pre"), (post_g, "post"), (third_g, "third")):
        if "recorder" in {m.kind for m in net.models_of(gids)}:
            raise BadParameterError(f"tripartite_connect: {what} holds recorders; tripartite connections "
                                    "join neurons (NEST: 'Cannot use this rule to connect to nodes without "
                                    "proxies (usually devices)').")
    specs = _tripartite_syn_specs(syn_specs)
    rng = net.rng("tripartite_connect")
    i_pre, i_post = cr.generate(primary, pre_g, post_g, rng)
    m, i_third = cr.generate_third(tf, i_post, len(post_g), len(third_g), rng)
    for key, a, b, ia, ib in (("primary", pre_g, post_g, i_pre, i_post),
                              ("third_in", pre_g, third_g, i_pre[m], i_third),
                              ("third_out", third_g, post_g, i_third, i_post[m])):
        syn, model = specs[key]
        net.connect(a, b, cr.given_pairs(i_pre=ia, i_post=ib), dict(syn), model, {})


def _tripartite_syn_specs(syn_specs) -> dict:
    """{"primary" | "third_in" | "third_out": (synapse parameters, model)} with NEST's defaults."""
    keys = ("primary", "third_in", "third_out")
    if syn_specs is None:
        syn_specs = {}
    if not isinstance(syn_specs, dict):
        raise BadParameterError(f"tripartite_connect: syn_specs must be a dict with keys {', '.join(keys)}; "
                                f"got {syn_specs!r}.")
    for key in syn_specs:
        if key not in keys:
            raise BadParameterError(f"tripartite_connect: unknown syn_specs key {key!r}."
                                    f"{did_you_mean(str(key), keys)} Known keys: {', '.join(keys)}.")
    out = {}
    for key in keys:
        syn, model = split_syn_spec(syn_specs.get(key), None, None, None, None, None)
        for name, v in syn.items():
            if isinstance(v, (list, tuple, np.ndarray)):
                raise BadParameterError(f"tripartite_connect: syn_specs[{key!r}][{name!r}] is a list or array; "
                                        "tripartite connections take scalars or nx.random distributions (NEST: "
                                        "'Tripartite connections do not accept parameter lists').")
        out[key] = (syn, model)
    return out


def check_collocated(syn_specs, **keywords):
    """A list of synapse specs (NEST's CollocatedSynapses) holds at least one dict, model name or
    synapse spec, and comes without the single-spec keywords (weight=, delay=, ...)."""
    given = [k for k, v in keywords.items() if v is not None]
    if given:
        raise BadParameterError(f"connect: {given[0]}= given beside a list of synapse specs (collocated synapses); "
                                f"put {given[0]!r} into each spec of the list.")
    if len(syn_specs) == 0:
        raise BadParameterError("connect: the list of collocated synapse specs is empty; give at least one "
                                "syn_spec (NEST: CollocatedSynapses({...}, {...})).")
    for i, spec in enumerate(syn_specs):
        if isinstance(spec, (list, tuple)) or spec is None:
            raise BadParameterError(f"connect: collocated synapse spec {i} is {spec!r}; each must be a syn_spec "
                                    "dict, a synapse model name or a synapse spec.")


def _has_spatial_value(syn: dict) -> bool:
    from .. import spatial as sp
    return any(isinstance(v, sp.Parameter) for v in syn.values())


def collocated(net, pre_g, post_g, rule, calls):
    """NEST's collocated synapses: the rule draws its pairs once (with the first spec) and every spec of
    ``calls`` ([(synapse parameters, model, rule keywords)]) makes one connection per pair, each stored
    as its own record; if any spec has a spatial value, all of them take the spatial path (as NEST)."""
    pairs = {"spatial": any(_has_spatial_value(syn) for syn, _, _ in calls)}
    for syn, model, kwargs in calls:
        net.connect(pre_g, post_g, rule, syn, model, kwargs, pairs=pairs)


# ------------------------------------------------------------------ disconnect (NEST's Disconnect)
DISCONNECT_RULES = ("one_to_one", "all_to_all")


def disconnect_pairs(net, pre_g, post_g, conn_spec, synapse_model) -> list:
    """[(record index, positions)] of the connections NEST's Disconnect(pre, post, conn_spec, syn_spec)
    removes: for each (source, target) pair of ``conn_spec`` ('one_to_one' or 'all_to_all', a name or
    a dict with 'rule'), the earliest made connection of ``synapse_model`` (exactly that model: a
    copy_model copy is another model, as in NEST). A pair without such a connection is an error and
    nothing is removed (NEST removes the pairs before it)."""
    rule = conn_spec.get("rule", "all_to_all") if isinstance(conn_spec, dict) else conn_spec
    if rule not in DISCONNECT_RULES:
        raise NotImplementedError(f"disconnect: rule {rule!r} is not a disconnection rule (NEST 3.10 disconnects "
                                  "with 'one_to_one' and 'all_to_all'); select the connections with "
                                  "GetConnections / sim.connections and disconnect that collection.")
    if isinstance(conn_spec, dict):
        extra = {k: v for k, v in conn_spec.items() if k != "rule"}
        if extra.get("make_symmetric"):
            raise NotImplementedError("disconnect: make_symmetric is not supported; disconnect each direction "
                                      "with its own call (rule one_to_one).")
        extra.pop("make_symmetric", None)
        if extra:
            raise BadParameterError(f"disconnect: conn_spec keys {sorted(extra)} are not settings of a disconnection "
                                    f"rule; give {{'rule': 'one_to_one'}} or {{'rule': 'all_to_all'}}.")
    pre_g, post_g = np.asarray(pre_g, np.int64), np.asarray(post_g, np.int64)
    if rule == "one_to_one":
        if len(pre_g) != len(post_g):
            raise BadParameterError(f"disconnect: one_to_one needs as many sources as targets (got {len(pre_g)} "
                                    f"and {len(post_g)}; NEST: 'Source and Target population must be of the "
                                    "same size').")
        src, tgt = pre_g, post_g
    else:
        src, tgt = np.repeat(pre_g, len(post_g)), np.tile(post_g, len(pre_g))
    want = model_root(synapse_model)
    scale = np.int64(max(int(np.max(src, initial=0)), int(np.max(tgt, initial=0))) + 1)
    key_p, need = np.unique(src * scale + tgt, return_counts=True)
    cand_ci, cand_pos, cand_key = [], [], []
    for ci, c in enumerate(net.conns):
        if model_root(c.synapse) is not want or not len(c):
            continue
        k = c.src.astype(np.int64) * scale + c.tgt.astype(np.int64)
        hit = np.flatnonzero(np.isin(k, key_p) & (c.src < scale) & (c.tgt < scale))
        cand_ci.append(np.full(len(hit), ci, np.int64))
        cand_pos.append(hit)
        cand_key.append(k[hit])
    cand_ci = np.concatenate(cand_ci) if cand_ci else np.zeros(0, np.int64)
    cand_pos = np.concatenate(cand_pos) if cand_pos else np.zeros(0, np.int64)
    cand_key = np.concatenate(cand_key) if cand_key else np.zeros(0, np.int64)
    order = np.argsort(cand_key, kind="stable")  # by pair, each pair's connections in the order made
    ks = cand_key[order]
    first = np.searchsorted(ks, ks, side="left")
    rank = np.arange(len(ks)) - first
    have = np.searchsorted(ks, key_p, side="right") - np.searchsorted(ks, key_p, side="left")
    if np.any(have < need):
        i = int(np.flatnonzero(have < need)[0])
        s, t = divmod(int(key_p[i]), int(scale))
        raise ConnectionError_(f"disconnect: there is no {synapse_model.name} connection from node {s} to node {t} "
                               "to remove (NEST: 'Deletion of connection is not possible because it does not "
                               "exist'); nothing was disconnected.")
    take = order[rank < need[np.searchsorted(key_p, ks)]]
    sel = []
    for ci in np.unique(cand_ci[take]):
        sel.append((int(ci), np.sort(cand_pos[take][cand_ci[take] == ci])))
    return sel


def check_removable(net, sel, call="disconnect"):
    """Connections NEST cannot delete are refused: those from or to devices, and gap junctions."""
    for ci, pos in sel:
        c = net.conns[ci]
        if c.synapse.gap:
            raise NotImplementedError(f"{call}: {c.synapse.name} connections cannot be disconnected in nestax (a gap "
                                      "junction is one symmetric pair of connections); nest.ResetKernel and "
                                      "connecting again is the nearest supported call.")
        for ids, what in ((c.src, "from"), (c.tgt, "to")):
            for m in net.models_of(np.unique(ids[pos])):
                if m.kind != "neuron":
                    raise ConnectionError_(f"{call}: connections {what} the device {m.name} cannot be removed "
                                           "(NEST: 'Deletion of connection is not possible because it does not "
                                           "exist'; NEST deletes connections between neurons only).")


def remove(net, sel, snapshot=None) -> dict:
    """Remove the connections ``sel`` ([(record index, positions)]) from their records; the records
    stay (possibly empty), so record indices keep their meaning. ``snapshot`` (``Network.snapshot()``,
    what a reset returns to): its values of the removed connections go too. Returns {record index:
    kept mask}."""
    masks = {}
    for ci, pos in sel:
        keep = masks.setdefault(ci, np.ones(len(net.conns[ci]), bool))
        keep[pos] = False
    for ci, keep in masks.items():
        c = net.conns[ci]
        c.src, c.tgt = c.src[keep], c.tgt[keep]
        for name in ("weight", "delay", "receptor", "delay_ms"):
            v = getattr(c, name)
            if v is not None and np.ndim(v) > 0:
                setattr(c, name, v[keep])
        c.params = {k: (v[keep] if np.ndim(v) > 0 else v) for k, v in c.params.items()}
        if c.plastic is not None:
            c.plastic = {k: (v[keep] if np.ndim(v) > 0 else v) for k, v in c.plastic.items()}
        net._max_delays[ci] = int(np.max(c.delay, initial=0)) if len(c) else 0
        if snapshot is not None and ci < len(snapshot[1]):
            w0, p0 = snapshot[1][ci]
            snapshot[1][ci] = (w0[keep] if np.ndim(w0) else w0,
                               None if p0 is None else {k: v[keep] for k, v in p0.items()})
    net.version += 1
    return masks
