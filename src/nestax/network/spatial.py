"""Node positions of spatial blocks and the connections that depend on them (see :mod:`nestax.spatial`
for the user's side and NEST's semantics). Host-side NumPy, vectorised over chunks of
(driver node x pool) pairs so that 10^4 x 10^4 layers connect without n^2 memory.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .. import connect as cr
from .. import spatial as sp
from ..errors import BadParameterError, ConnectionError_, did_you_mean
from ..random import Distribution

_CHUNK = 2_000_000  # (driver, pool) pairs examined at once


def std_round(x):
    """C's round(): halves away from zero (NumPy rounds halves to even)."""
    t = np.trunc(x)
    f = x - t
    return t + np.where(np.abs(f) >= 0.5, np.sign(x), 0.0)


@dataclass
class Layer:
    """Positions (n, D) of one block's nodes, with NEST's layer geometry."""
    kind: str
    positions: np.ndarray
    lower_left: np.ndarray
    extent: np.ndarray
    edge_wrap: bool
    shape: tuple | None = None

    @property
    def ndim(self):
        return self.positions.shape[1]

    @property
    def center(self):
        return self.lower_left + self.extent / 2

    def conn_displacement(self, src, tgt):
        """tgt - src per row, periodic as NEST's connection parameters compute it."""
        d = tgt - src
        if self.edge_wrap:
            d = d - self.extent * std_round(d * (1 / self.extent))
        return d

    def query_displacement(self, frm, to):
        """to - frm per row, periodic as NEST's Displacement / Distance compute it."""
        d = to - frm
        if self.edge_wrap:
            e = self.extent
            d = -0.5 * e + np.fmod(d + 0.5 * e, e)
            d = np.where(d < -0.5 * e, d + e, d)
        return d

    def status(self, n):
        """NEST's ``nodes.spatial`` dict."""
        out = {"center": self.center.copy(), "edge_wrap": self.edge_wrap, "extent": self.extent.copy(),
               "network_size": n}
        if self.kind == "grid":
            out["shape"] = np.array(self.shape)
        else:
            out["positions"] = self.positions.copy()
        return out


def _floats(v, where, name, n=None, positive=False):
    try:
        a = np.asarray(v, float)
    except (TypeError, ValueError):
        a = None
    if a is None or a.ndim != 1 or (n is not None and len(a) != n) or not np.all(np.isfinite(a)):
        raise BadParameterError(f"{where}: {name} = {v!r} is invalid; expected {n or 'a list of'} finite numbers.")
    if positive and not np.all(a > 0):
        raise BadParameterError(f"{where}: {name} = {v!r} is invalid; every entry must be > 0.")
    return a


def make_layer(positions, n, rng, where) -> tuple[int, Layer]:
    """(number of nodes, Layer) for ``positions`` (nx.spatial.grid / free) given to ``create``."""
    if isinstance(positions, sp.grid):
        return _grid(positions, n, where)
    if isinstance(positions, sp.free):
        return _free(positions, n, rng, where)
    raise BadParameterError(f"{where}: positions = {positions!r} is invalid; expected nx.spatial.grid(...) or "
                            "nx.spatial.free(...).")


def _grid(g, n, where):
    shape = g.shape
    if not isinstance(shape, (list, tuple, np.ndarray)) or len(shape) not in (2, 3) or not all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0 for s in shape):
        raise BadParameterError(f"{where}: grid shape = {shape!r} is invalid; expected 2 or 3 positive integers "
                                "([n_x, n_y] or [n_x, n_y, n_z]).")
    D = len(shape)
    dims = np.array(shape, np.int64)
    size = int(np.prod(dims))
    if n not in (1, size):
        raise BadParameterError(f"{where}: n = {n} with grid positions; the grid shape {list(shape)} sets the number "
                                f"of nodes ({size}); leave n out (NEST: 'Cannot specify number of nodes with grid "
                                "positions').")
    extent = np.ones(D) if g.extent is None else _floats(g.extent, where, "grid extent", D, positive=True)
    center = np.zeros(D) if g.center is None else _floats(g.center, where, "grid center", D)
    ll = center - extent / 2
    lid = np.arange(size, dtype=np.int64)
    gp = np.zeros((size, D), np.int64)
    rest = lid.copy()
    for i in range(D - 1, 0, -1):
        gp[:, i] = rest % dims[i]
        rest //= dims[i]
    gp[:, 0] = rest
    ul, e = ll.copy(), extent.copy()
    ul[1] += e[1]  # matrix convention: the second index runs downwards
    e[1] = -e[1]
    step = e / dims
    pos = (ul + step * gp) + step * 0.5
    return size, Layer("grid", pos, ll, extent, bool(g.edge_wrap), tuple(int(s) for s in shape))


def _free(f, n, rng, where):
    p = f.pos
    if isinstance(p, (list, tuple)) and len(p) in (2, 3) and all(isinstance(x, Distribution) for x in p):
        if f.num_dimensions is not None:
            raise BadParameterError(f"{where}: num_dimensions is given by the list of {len(p)} distributions; "
                                    "leave it out.")
        r = rng()
        pos = np.stack([np.asarray(d.sample(r, n, "1", f"{where} positions"), float) for d in p], axis=1)
    elif isinstance(p, Distribution):
        D = f.num_dimensions
        if D is None and f.extent is not None:
            D = len(f.extent)
        if D not in (2, 3):
            raise BadParameterError(f"{where}: free positions drawn from {p!r} need num_dimensions = 2 or 3 (or an "
                                    f"extent); got num_dimensions = {f.num_dimensions!r}.")
        pos = np.asarray(p.sample(rng(), n * D, "1", f"{where} positions"), float).reshape(n, D)
    else:
        if f.num_dimensions is not None:
            raise BadParameterError(f"{where}: num_dimensions cannot be given with a list of positions.")
        try:
            pos = np.asarray(p, float)
        except (TypeError, ValueError):
            raise BadParameterError(f"{where}: free positions must be a list of 2- or 3-element positions or an "
                                    f"nx.random distribution; got {p!r}.") from None
        if pos.ndim != 2 or pos.shape[1] not in (2, 3) or len(pos) == 0:
            raise BadParameterError(f"{where}: free positions have shape {pos.shape}; expected (n, 2) or (n, 3).")
        if not np.all(np.isfinite(pos)):
            raise BadParameterError(f"{where}: free positions must be finite numbers.")
        if n not in (1, len(pos)):
            raise BadParameterError(f"{where}: n = {n} but {len(pos)} positions are given; leave n out or give one "
                                    "position per node.")
        n = len(pos)
    D = pos.shape[1]
    lo, hi = pos.min(0), pos.max(0)
    center = (hi + lo) / 2
    if f.extent is not None:
        extent = _floats(f.extent, where, "free extent", D, positive=True)
        ll = center - extent / 2
        upper = center + extent / 2
        bad = (lo < ll) | (hi > upper)
        if np.any(bad):
            i = int(np.argmax(bad))
            raise BadParameterError(
                f"{where}: a position lies outside the layer: along axis {'xyz'[i]} the positions span "
                f"[{lo[i]}, {hi[i]}], but extent {extent[i]} around their center {center[i]} covers "
                f"[{ll[i]}, {upper[i]}] (NEST: 'Node position outside of layer'). Give a larger extent.")
    else:
        if n <= 1:
            raise BadParameterError(f"{where}: one node with free positions needs an extent (NEST: 'If only one "
                                    "node is created, extent must be specified').")
        extent = np.ceil(hi - lo)
        ll = center - extent / 2
    if f.edge_wrap and np.any(extent <= 0):
        raise BadParameterError(f"{where}: edge_wrap=True needs an extent > 0 in every dimension; got "
                                f"{extent.tolist()}.")
    return n, Layer("free", pos, ll, extent, bool(f.edge_wrap))


def node_values(lay, given, rng):
    """Parameters given to ``create`` as spatial parameters of the node's own position
    (``V_m=-70. + 5. * nx.spatial.pos.x``): evaluated per node."""
    if not isinstance(given, dict) or not any(_is_spatial_value(v) for v in given.values()):
        return given
    ctx = sp._Ctx(lay.positions, lay.positions, lay, rng())
    return {k: (np.asarray(v.value(ctx), float) if _is_spatial_value(v) else v) for k, v in given.items()}


def layer_and_index(net, gids, what):
    """The Layer of the block holding all ``gids`` and their indices in it; an error if the nodes have
    no positions or belong to different layers."""
    gids = np.asarray(gids, np.int64)
    if len(gids) == 0:
        raise BadParameterError(f"{what}: the node collection is empty.")
    bi, blocks = net.block_split(gids)
    if len(blocks) != 1:
        raise BadParameterError(f"{what}: the nodes belong to {len(blocks)} different create calls; spatial "
                                "functions take the nodes of one layer (one create with positions=...).")
    blk = net.blocks[blocks[0]]
    lay = getattr(blk, "spatial", None)
    if lay is None:
        raise BadParameterError(f"{what}: the nodes ({blk.model.name}) have no positions; create them with "
                                "positions=nx.spatial.grid(...) or nx.spatial.free(...).")
    return lay, gids - blk.gid0


# ---------------------------------------------------------------------------------------------- connect
_RULE_KEYS = {"pairwise_bernoulli": "p", "fixed_indegree": "indegree", "fixed_outdegree": "outdegree",
              "pairwise_poisson": "pairwise_avg_num_conns"}
_SPATIAL_KEYS = ("mask", "use_on_source", "allow_oversized_mask")


@dataclass
class Spec:
    """A spatial connection: rule, kernel (p or pairwise_avg_num_conns), number (in/outdegree), mask."""
    rule: str
    kernel: object = None
    number: object = None
    mask: object = None
    use_on_source: bool = False
    allow_autapses: bool = True
    allow_multapses: bool = True
    allow_oversized_mask: bool = False


def _is_spatial_value(v):
    return isinstance(v, sp.Parameter)


def extract(rule, kwargs: dict, syn: dict, force: bool = False):
    """A :class:`Spec` if this connect needs positions (a mask, use_on_source, allow_oversized_mask, or a
    spatial parameter as rule value or synapse value; ``force``: another of its collocated synapse specs
    has one), consuming those keys from ``kwargs``; else None."""
    spec = dict(rule) if isinstance(rule, dict) else {}
    name = spec.get("rule", None) if isinstance(rule, dict) else rule
    obj = rule if isinstance(rule, cr.Rule) else None
    if obj is not None:
        name = obj.name
        spec = {f.name: getattr(obj, f.name) for f in fields(obj)}
    elif isinstance(name, type) and issubclass(name, cr.Rule):
        name = name.name
    keys_here = set(spec) | set(kwargs)
    spatial_vals = [k for k, v in {**spec, **kwargs}.items() if _is_spatial_value(v)]
    syn_spatial = [k for k, v in syn.items() if _is_spatial_value(v)]
    if not (set(_SPATIAL_KEYS) & keys_here or spatial_vals or syn_spatial or force):
        return None
    name = name or "all_to_all"
    if name not in _RULE_KEYS:
        raise BadParameterError(
            f"connect: rule {name!r} with a mask or spatial parameters is invalid; spatial connections use "
            f"{', '.join(_RULE_KEYS)} (NEST: 'When using kernel or mask, the only possible connection rules are "
            "pairwise_bernoulli, fixed_indegree, fixed_outdegree, and pairwise_poisson').")
    args = {k: v for k, v in spec.items() if k != "rule"}
    for k in list(kwargs):
        if k in _SPATIAL_KEYS or k in (_RULE_KEYS[name], "allow_autapses", "allow_multapses", "make_symmetric") or \
                (k == "p" and name in ("fixed_indegree", "fixed_outdegree")):
            args[k] = kwargs.pop(k)
    allowed = {_RULE_KEYS[name], "allow_autapses", "allow_multapses", "make_symmetric", *_SPATIAL_KEYS}
    if name in ("fixed_indegree", "fixed_outdegree"):
        allowed.add("p")  # NEST: weights the draw of the partners
    for k in args:
        if k not in allowed:
            raise BadParameterError(f"connect: {k!r} is not a setting of spatial rule {name}."
                                    f"{did_you_mean(k, allowed)} It takes: {', '.join(sorted(allowed))}.")
    if args.get("make_symmetric"):
        raise BadParameterError(f"connect: make_symmetric=True is not possible with spatial rule {name}.")
    if "use_on_source" in args and name != "pairwise_bernoulli":
        raise BadParameterError(f"connect: use_on_source is a setting of pairwise_bernoulli only (rule {name}; "
                                "NEST: 'use_on_source can only be set when using pairwise_bernoulli').")
    for k in ("use_on_source", "allow_oversized_mask", "allow_autapses", "allow_multapses"):
        if k in args and not isinstance(args[k], (bool, np.bool_)):
            raise BadParameterError(f"connect: {k} = {args[k]!r} is invalid; expected True or False.")
    m = args.get("mask")
    if m is not None:
        m = sp.mask(m)
    value = args.get(_RULE_KEYS[name], 1.0 if name in ("pairwise_bernoulli", "pairwise_poisson") else None)
    s = Spec(name, mask=m, use_on_source=bool(args.get("use_on_source", False)),
             allow_autapses=bool(args.get("allow_autapses", True)),
             allow_multapses=bool(args.get("allow_multapses", True)),
             allow_oversized_mask=bool(args.get("allow_oversized_mask", False)))
    if name in ("fixed_indegree", "fixed_outdegree"):
        if value is None or isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or \
                value < 0:
            raise BadParameterError(f"connect rule {name}: {_RULE_KEYS[name]} = {value!r} is invalid; expected a "
                                    "non-negative integer.")
        s.number = int(value)
        s.kernel = args.get("p")  # NEST: p with a fixed degree weights the draw
    else:
        if not isinstance(value, (sp.Parameter, Distribution)):
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise BadParameterError(f"connect rule {name}: {_RULE_KEYS[name]} = {value!r} is invalid; expected a "
                                        "number or a spatial parameter.") from None
            if name == "pairwise_bernoulli" and not 0.0 <= value <= 1.0:
                raise BadParameterError(f"connect rule {name}: p = {value} is invalid; expected 0 <= p <= 1.")
        s.kernel = value
    return s


def _kernel_param(k):
    if k is None:
        return None
    return sp._param(k, "connect kernel")


def _shifts(lay, m):
    """The periodic images (multiples of the extent) a mask can reach beyond the minimal image."""
    if not lay.edge_wrap or m is None:
        return [np.zeros(lay.ndim)]
    lo, hi = m.bbox()
    opts = []
    for i in range(lay.ndim):
        o = [0.0]
        if lo[i] < -lay.extent[i] / 2:
            o.append(-lay.extent[i])
        if hi[i] > lay.extent[i] / 2:
            o.append(lay.extent[i])
        opts.append(o)
    grid = np.array(np.meshgrid(*opts, indexing="ij")).reshape(lay.ndim, -1).T
    return list(grid)


def _candidates(lay, m, anchors, pool):
    """Yield (first anchor, end anchor, anchor indices, pool indices) of the pairs whose displacement
    pool - anchor lies in mask ``m`` (every pair without a mask), chunk by chunk over the anchors,
    anchor indices ascending (pool indices ascending within an anchor).

    With a mask, the pool is sorted along x and each anchor only examines the pool nodes whose x falls
    in the mask's bounding box (and its periodic images); the exact test then runs on those."""
    n_p = len(pool)
    if m is None:
        per = max(1, _CHUNK // max(n_p, 1))
        for a0 in range(0, len(anchors), per):
            n_a = min(per, len(anchors) - a0)
            ia, ip = np.divmod(np.arange(n_a * n_p, dtype=np.int64), n_p)
            yield a0, a0 + n_a, ia + a0, ip
        return
    shifts = _shifts(lay, m)
    order = np.argsort(pool[:, 0], kind="stable")
    xs = pool[order, 0]
    lo, hi = m.bbox()
    pad = 1e-9 * (1.0 + np.max(np.abs(np.concatenate([[lo[0], hi[0]], xs[[0, -1]]]))))
    ax = anchors[:, 0]
    if lay.edge_wrap:  # the anchor in the layer's frame; images up to two extents away
        E, ll = lay.extent[0], lay.lower_left[0]
        ax = ll + np.mod(ax - ll, E)
        offs = [k * E for k in (-2, -1, 0, 1, 2)]
    else:
        offs = [0.0]
    starts = [np.searchsorted(xs, ax + lo[0] - pad + o, side="left") for o in offs]
    ends = [np.searchsorted(xs, ax + hi[0] + pad + o, side="right") for o in offs]
    cnt = sum(np.maximum(e - b, 0) for b, e in zip(starts, ends))
    cum = np.cumsum(cnt)
    a0 = 0
    while a0 < len(anchors):
        base = cum[a0 - 1] if a0 else 0
        a1 = int(np.searchsorted(cum, base + _CHUNK, side="right"))
        a1 = max(a1, a0 + 1)
        ia_parts, ip_parts = [], []
        for b_, e_ in zip(starts, ends):
            c = np.maximum(e_[a0:a1] - b_[a0:a1], 0)
            tot = int(c.sum())
            if tot == 0:
                continue
            rows = np.repeat(np.arange(a0, a1, dtype=np.int64), c)
            within = np.arange(tot, dtype=np.int64) - np.repeat(np.cumsum(c) - c, c)
            ia_parts.append(rows)
            ip_parts.append(order[np.repeat(b_[a0:a1], c) + within])
        if ia_parts:
            key = np.sort(np.concatenate(ia_parts) * n_p + np.concatenate(ip_parts))
            if len(offs) > 1:  # periodic images can overlap at a mask as wide as the layer: once each
                key = key[np.concatenate([[True], key[1:] != key[:-1]])]
            ia, ip = np.divmod(key, n_p)
            d = pool[ip] - anchors[ia]
            if lay.edge_wrap:
                d = d - lay.extent * std_round(d * (1 / lay.extent))
            ok = np.zeros(len(d), bool)
            for sh in shifts:
                ok |= m.inside(d + sh if np.any(sh) else d)
            ia, ip = ia[ok], ip[ok]
        else:
            ia = ip = np.zeros(0, np.int64)
        yield a0, a1, ia, ip
        a0 = a1


def _check_mask(m, lay, allow_oversized, where):
    """Checks ``m`` against the layer it applies to; returns the mask to use (a grid mask as its box)."""
    if m is None:
        return None
    if isinstance(m, sp._GridMask):
        if lay.kind != "grid":
            raise BadParameterError(f"{where}: a grid mask applies to grid layers only; this one has free positions "
                                    "(NEST: 'Grid masks can only be used with grid layers').")
        if m.ndim != lay.ndim:
            raise BadParameterError(f"{where}: the grid mask is {m.ndim}-D but the layer it applies to is "
                                    f"{lay.ndim}-D.")
        if lay.edge_wrap and not allow_oversized and np.any(m.lower_right - m.upper_left > np.array(lay.shape)):
            raise BadParameterError(f"{where}: the grid mask of shape {m.shape.tolist()} is larger than the periodic "
                                    f"layer's shape {list(lay.shape)} (NEST: 'Mask size must not exceed layer size; "
                                    "set allow_oversized_mask to override').")
        return m.to_box(lay)
    if m.ndim != lay.ndim:
        fits = "rectangular, circular, doughnut or elliptical" if lay.ndim == 2 else "box, spherical or ellipsoidal"
        raise BadParameterError(f"{where}: the {m.name} mask is {m.ndim}-D but the layer it applies to is "
                                f"{lay.ndim}-D (NEST: 'Mask is incompatible with layer'); use "
                                f"{fits} "
                                f"masks on a {lay.ndim}-D layer.")
    if lay.edge_wrap and not allow_oversized:
        lo, hi = m.bbox()
        over = (hi - lo) > lay.extent
        if np.any(over):
            i = int(np.argmax(over))
            raise BadParameterError(f"{where}: the {m.name} mask is {hi[i] - lo[i]} wide along {'xyz'[i]}, more than "
                                    f"the periodic layer's extent {lay.extent[i]} (NEST: 'Mask size must not exceed "
                                    "layer size; set allow_oversized_mask to override').")
    return m


def generate(net, pre_g, post_g, s: Spec, syn: dict, rng, given=None):
    """(i_pre, i_post, syn with spatial values evaluated per connection) of a spatial connect;
    ``given`` = (i_pre, i_post): the pairs are these (drawn for a collocated synapse spec), only the
    values are evaluated."""
    where = f"connect ({s.rule}, spatial)"
    for g, what in ((pre_g, "pre"), (post_g, "post")):
        kinds = {m.kind for m in net.models_of(g)}
        if "recorder" in kinds:
            raise ConnectionError_(f"{where}: {what} holds recorders; spatial connections join neurons and "
                                   "generators (NEST: 'Spatial Connect ... to devices is not possible'). Connect "
                                   "recorders with an ordinary connect.")
    src_lay, src_i = layer_and_index(net, pre_g, f"{where}: pre")
    tgt_lay, tgt_i = layer_and_index(net, post_g, f"{where}: post")
    if src_lay.ndim != tgt_lay.ndim:
        raise BadParameterError(f"{where}: the source layer is {src_lay.ndim}-D and the target layer {tgt_lay.ndim}-D "
                                "(NEST: 'Target layer must have same number of dimensions as source layer').")
    sp_ = src_lay.positions[src_i]
    tp_ = tgt_lay.positions[tgt_i]
    kernel = _kernel_param(s.kernel)
    # who drives: the node the mask is placed at; pool: the nodes it selects; lay: whose geometry counts
    if s.rule == "fixed_outdegree" or (s.rule == "pairwise_bernoulli" and not s.use_on_source):
        drive_is_src, lay = True, tgt_lay
    else:
        drive_is_src, lay = False, src_lay
    m = _check_mask(s.mask, lay, s.allow_oversized_mask, where)
    anchors, pool = (sp_, tp_) if drive_is_src else (tp_, sp_)
    pre_g, post_g = np.asarray(pre_g, np.int64), np.asarray(post_g, np.int64)
    out_pre, out_post = [], []
    if given is not None:
        out_pre, out_post = [np.asarray(given[0], np.int64)], [np.asarray(given[1], np.int64)]
    for a0, a1, ia, ip in (() if given is not None else _candidates(lay, m, anchors, pool)):
        i_pre, i_post = (ia, ip) if drive_is_src else (ip, ia)
        if not s.allow_autapses:
            keep = pre_g[i_pre] != post_g[i_post]
            i_pre, i_post, ia, ip = i_pre[keep], i_post[keep], ia[keep], ip[keep]
        if s.rule in ("pairwise_bernoulli", "pairwise_poisson"):
            if kernel is None:
                out_pre.append(i_pre)
                out_post.append(i_post)
                continue
            v = kernel.value(sp._Ctx(sp_[i_pre], tp_[i_post], lay, rng))
            if s.rule == "pairwise_bernoulli":
                take = rng.random(len(v)) < v
                out_pre.append(i_pre[take])
                out_post.append(i_post[take])
            else:
                if np.any(~(v >= 0)):
                    raise BadParameterError(f"{where}: pairwise_avg_num_conns must be >= 0 for every pair; got "
                                            f"{float(v[~(v >= 0)][0])}.")
                c = rng.poisson(v)
                out_pre.append(np.repeat(i_pre, c))
                out_post.append(np.repeat(i_post, c))
        else:
            w = None if kernel is None else kernel.value(sp._Ctx(sp_[i_pre], tp_[i_post], lay, rng))
            drive_g = pre_g if drive_is_src else post_g
            sel = _fixed_degree(rng, ia, w, s, where, a0, a1, drive_g)
            out_pre.append(i_pre[sel])
            out_post.append(i_post[sel])
    i_pre = np.concatenate(out_pre) if out_pre else np.zeros(0, np.int64)
    i_post = np.concatenate(out_post) if out_post else np.zeros(0, np.int64)
    syn = dict(syn)
    if any(_is_spatial_value(v) for v in syn.values()):
        ctx = sp._Ctx(sp_[i_pre], tp_[i_post], lay, rng)
        for k, v in list(syn.items()):
            if _is_spatial_value(v):
                syn[k] = np.asarray(v.value(ctx), float)
    return i_pre.astype(np.int64), i_post.astype(np.int64), syn


def _fixed_degree(rng, ia, w, s, where, a0, a1, drive_g):
    """Positions (into the candidate arrays) of the connections each driver node a0 .. a1 - 1 draws:
    ``s.number`` per driver from its candidates (the rows of the sorted ``ia``), with probability
    proportional to ``w`` (uniform without a kernel); without multapses, distinct (successive
    weighted draws, as NEST's redraw of a partner drawn before)."""
    k = s.number
    if k == 0:
        return np.zeros(0, np.int64)
    w = np.ones(len(ia)) if w is None else np.asarray(w, float)
    if np.any(~(w >= 0)) or np.any(~np.isfinite(w)):
        raise BadParameterError(f"{where}: p must be a finite number >= 0 for every candidate pair (with a fixed "
                                "degree it weights the draw of the partners).")
    n_rows = a1 - a0
    counts = np.bincount(ia - a0, minlength=n_rows)
    pos_w = np.bincount(ia - a0, weights=(w > 0).astype(float), minlength=n_rows).astype(np.int64)
    need = k if not s.allow_multapses else 1
    short = pos_w < need
    if np.any(short):
        r = int(np.flatnonzero(short)[0])
        who, partners = ("source", "targets") if s.rule == "fixed_outdegree" else ("target", "sources")
        raise BadParameterError(
            f"{where}: {who} {int(drive_g[a0 + r])} has {int(pos_w[r])} eligible {partners} inside the mask; it needs "
            f"{need}{' (allow_multapses=False)' if not s.allow_multapses else ''} (NEST: 'Not enough {partners} "
            "found inside mask').")
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    if s.allow_multapses:
        cw = np.cumsum(w)
        base = np.concatenate([[0.0], cw])[start]
        tot = cw[start + counts - 1] - base
        r_of = np.repeat(np.arange(n_rows), k)
        x = base[r_of] + rng.random(len(r_of)) * tot[r_of]
        j = np.clip(np.searchsorted(cw, x, side="right"), start[r_of], start[r_of] + counts[r_of] - 1)
        while True:  # rounding at a row's end can land on a zero-weight entry: step back to a positive one
            bad = w[j] <= 0
            if not bad.any():
                return j
            j[bad] -= 1
    # successive weighted draws without replacement = the k largest keys log(u) / w in each row
    with np.errstate(divide="ignore"):
        key = np.where(w > 0, np.log(rng.random(len(w))) / np.where(w > 0, w, 1.0), -np.inf)
    order = np.lexsort((-key, ia))
    rank = np.arange(len(ia)) - np.repeat(start, counts)
    return order[rank < k]
