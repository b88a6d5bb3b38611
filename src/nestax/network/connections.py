"""Reading and making connections beyond one ``connect`` call: the selection behind
``sim.connections`` (NEST's GetConnections) with its columns, and NEST's TripartiteConnect.
Host-side NumPy over the network's connection records."""
from __future__ import annotations

import numpy as np

from .. import connect as cr
from ..errors import BadParameterError, did_you_mean
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
