"""Connection rules, as NEST's conn_spec.

Each rule turns (pre, post) node collections into index arrays (i_pre, i_post) of positions in those
collections. All sampling is vectorised NumPy drawn from a Generator that the Simulator derives from
its seed, so the same script builds the same network. Cost is proportional to the number of
connections made (plus n_pre + n_post); no rule allocates n_pre x n_post arrays except all_to_all
(whose output has that size) and dense draws without replacement (k > n/2 per row), which are chunked.

Rule objects (``nx.fixed_indegree(10)``), NEST's dict (``{'rule': 'fixed_indegree', 'indegree': 10}``)
and the keyword form (``rule='fixed_indegree', indegree=10``) are all accepted.

Semantics follow NEST 3.10's ``conn_builder.cpp``:

- fixed_indegree / fixed_outdegree: each target (source) draws k partners uniformly; autapses are
  redrawn when disallowed, duplicates when multapses are disallowed.
- fixed_total_number: N is split over the targets multinomially, then each connection draws its source
  uniformly (redrawing autapses). ``allow_multapses=False`` (not implemented in NEST) draws N distinct
  pairs.
- pairwise_bernoulli: each (source, target) pair independently with probability p; drawn as a
  binomial in-degree per target followed by distinct sources, which is the same distribution.
- pairwise_poisson: a Poisson(pairwise_avg_num_conns) number of connections per pair; drawn as a
  Poisson total per target, spread uniformly over the sources (same distribution).
- symmetric_pairwise_bernoulli: as NEST, each target draws k ~ Binomial(n_pre, p) (redrawn while
  k >= n_pre) distinct sources other than itself, and every drawn pair (s, t) makes two connections,
  s -> t and t -> s (so a pair drawn from both ends gives multapses; NEST requires them allowed).
  The two connections of a pair share weight and delay; as in NEST only scalar weights and delays
  are allowed ("parameters that can be reset").

Defaults as NEST: allow_autapses=True, allow_multapses=True for every rule, except that
symmetric_pairwise_bernoulli defaults to the only values NEST accepts (allow_autapses=False,
make_symmetric=True), where NEST would raise.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np

from .errors import BadParameterError, did_you_mean


@dataclass(frozen=True, kw_only=True)
class Rule:
    """Base of the rules; the allow_* flags are keyword-only so that ``fixed_indegree(10)`` works."""
    allow_autapses: bool = True
    allow_multapses: bool = True
    make_symmetric: bool = False
    name = "rule"

    def params(self):
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class all_to_all(Rule):
    name = "all_to_all"


@dataclass(frozen=True)
class one_to_one(Rule):
    name = "one_to_one"


@dataclass(frozen=True)
class fixed_indegree(Rule):
    indegree: int = 1
    name = "fixed_indegree"


@dataclass(frozen=True)
class fixed_outdegree(Rule):
    outdegree: int = 1
    name = "fixed_outdegree"


@dataclass(frozen=True)
class fixed_total_number(Rule):
    N: int = 1
    name = "fixed_total_number"


@dataclass(frozen=True)
class pairwise_bernoulli(Rule):
    p: float = 1.0
    name = "pairwise_bernoulli"


@dataclass(frozen=True)
class symmetric_pairwise_bernoulli(Rule):
    p: float = 1.0
    allow_autapses: bool = field(default=False, kw_only=True)
    make_symmetric: bool = field(default=True, kw_only=True)
    name = "symmetric_pairwise_bernoulli"


@dataclass(frozen=True)
class pairwise_poisson(Rule):
    pairwise_avg_num_conns: float = 1.0
    name = "pairwise_poisson"


RULES = {r.name: r for r in (all_to_all, one_to_one, fixed_indegree, fixed_outdegree, fixed_total_number,
                             pairwise_bernoulli, symmetric_pairwise_bernoulli, pairwise_poisson)}
_INT_PARAMS = ("indegree", "outdegree", "N")
_BOOL_PARAMS = ("allow_autapses", "allow_multapses", "make_symmetric")


def _check_types(rule: Rule) -> Rule:
    if isinstance(rule, given_pairs):  # built internally from arrays already checked
        return rule
    for f in fields(rule):
        v = getattr(rule, f.name)
        if f.name in _INT_PARAMS:
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
                raise BadParameterError(f"connect rule {rule.name}: {f.name} = {v!r} is invalid; expected a "
                                        "non-negative integer.")
        elif f.name in _BOOL_PARAMS:
            if not isinstance(v, (bool, np.bool_)):
                raise BadParameterError(f"connect rule {rule.name}: {f.name} = {v!r} is invalid; expected "
                                        "True or False.")
        else:
            try:
                float(v)
            except (TypeError, ValueError):
                raise BadParameterError(f"connect rule {rule.name}: {f.name} = {v!r} is invalid; expected a "
                                        "number.") from None
    return rule


def make_rule(rule, kwargs: dict) -> Rule:
    """Build a Rule from a rule object, a name and keyword arguments, or a NEST conn_spec dict.

    Consumes the rule's keywords from ``kwargs`` (leftovers are the caller's to report). Unknown keys of
    a conn_spec dict are an error here.
    """
    spec = None
    if isinstance(rule, dict):
        spec = dict(rule)
        rule = spec.pop("rule", "all_to_all")
    if isinstance(rule, Rule):
        if spec:
            raise BadParameterError(f"connect: conn_spec keys {sorted(spec)} given with a rule object "
                                    f"{rule!r}; pass them to the rule object instead.")
        # keywords of the rule given beside a rule object (rule=nx.fixed_indegree(10), allow_multapses=False)
        # complete it; a keyword that repeats a value the object already sets differently is an error
        extra = {f.name: kwargs.pop(f.name) for f in fields(rule) if f.name in kwargs}
        for name, value in extra.items():
            if name not in _BOOL_PARAMS and value != getattr(rule, name):
                raise BadParameterError(f"connect: {name} = {value!r} given beside the rule object {rule!r}, "
                                        f"which sets {name} = {getattr(rule, name)!r}; give it once.")
        return _check_types(replace(rule, **extra) if extra else rule)
    if isinstance(rule, type) and issubclass(rule, Rule):
        rule = rule.name
    if rule is None:
        rule = "all_to_all"
    if not isinstance(rule, str) or rule not in RULES:
        raise BadParameterError(f"connect: unknown rule {rule!r}.{did_you_mean(str(rule), RULES)} "
                                f"Known rules: {', '.join(RULES)}.")
    cls = RULES[rule]
    names = [f.name for f in fields(cls)]
    args = {}
    if spec:
        for key in list(spec):
            if key not in names:
                raise BadParameterError(f"connect: unknown conn_spec key {key!r} for rule {rule}."
                                        f"{did_you_mean(key, names)} Known keys: {', '.join(names)}.")
            args[key] = spec.pop(key)
    for f in names:
        if f in kwargs:
            args[f] = kwargs.pop(f)
    return _check_types(cls(**args))


def _bad(rule, name, value, expected):
    return BadParameterError(f"connect rule {rule.name}: {name} = {value!r} is invalid; expected {expected}.")


def positions_in(gids: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Position in ``pool`` of each gid in ``gids`` (-1 where absent). Vectorised (searchsorted).

    If a gid occurs several times in ``pool`` one of its positions is returned.
    """
    gids = np.asarray(gids, dtype=np.int64)
    pool = np.asarray(pool, dtype=np.int64)
    if len(pool) == 0:
        return np.full(len(gids), -1, np.int64)
    order = np.argsort(pool, kind="stable")
    sp = pool[order]
    j = np.minimum(np.searchsorted(sp, gids), len(sp) - 1)
    found = sp[j] == gids
    return np.where(found, order[j], -1).astype(np.int64)


# kept for callers of the old name
def self_index(targets, sources):
    return positions_in(targets, sources)


_DENSE_CHUNK = 4_000_000  # elements of the temporary key matrix in the dense path


def _draw_allowed(rng, rows, n, has_f, forbid):
    """One uniform draw in [0, n) per entry of ``rows``, skipping forbid[row] where has_f[row]."""
    if not has_f.any():
        return rng.integers(0, n, size=len(rows), dtype=np.int64)
    if has_f.all():
        x = rng.integers(0, n - 1, size=len(rows), dtype=np.int64)
        x += x >= forbid[rows]
        return x
    hf = has_f[rows]
    x = rng.integers(0, n - hf.astype(np.int64), dtype=np.int64)
    x += hf & (x >= forbid[rows])
    return x


def _sample_ragged(rng, counts, n, forbid=None, unique=False):
    """Row r gets counts[r] integers in [0, n), uniform, avoiding forbid[r] (if >= 0), distinct if unique.

    Returns a flat int64 array ordered by row (row r occupies offsets[r] : offsets[r] + counts[r]).
    The caller guarantees feasibility (counts[r] <= number of allowed values when unique).
    """
    counts = np.asarray(counts, dtype=np.int64)
    n_rows = len(counts)
    total = int(counts.sum())
    out = np.empty(total, dtype=np.int64)
    if total == 0:
        return out
    rows_all = np.repeat(np.arange(n_rows, dtype=np.int64), counts)
    if forbid is None:
        has_f = np.zeros(n_rows, bool)
        forbid = np.full(n_rows, -1, np.int64)
    else:
        forbid = np.asarray(forbid, dtype=np.int64)
        has_f = forbid >= 0
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])

    dense = np.zeros(n_rows, bool)
    if unique:
        dense = counts * 2 > n
    sparse_mask = ~dense[rows_all]

    # sparse rows: uniform draw over the allowed values (skip the forbidden one by shifting), then
    # redraw duplicates (only in rows that have some) until none is left
    all_sparse = not dense.any()
    rows = rows_all if all_sparse else rows_all[sparse_mask]
    if len(rows):
        x = _draw_allowed(rng, rows, n, has_f, forbid)
        if unique:
            idx = np.arange(len(rows))
            for _ in range(10_000):
                key = rows[idx] * n + x[idx]
                order = np.argsort(key, kind="stable")
                ks = key[order]
                dup = np.zeros(len(idx), bool)
                dup[order[1:]] = ks[1:] == ks[:-1]
                if not dup.any():
                    break
                # redraw the duplicates; afterwards only rows touched need re-checking
                d = idx[dup]
                rd = rows[d]
                x[d] = _draw_allowed(rng, rd, n, has_f, forbid)
                touched = np.zeros(n_rows, bool)
                touched[rd] = True
                idx = idx[touched[rows[idx]]]
            else:  # pragma: no cover
                raise RuntimeError("connection sampling did not converge")
        if all_sparse:
            out = x
        else:
            out[sparse_mask] = x

    # dense rows (k > n/2 distinct values): random keys, take the k smallest per row
    drows = np.nonzero(dense & (counts > 0))[0]
    if len(drows):
        per = max(1, _DENSE_CHUNK // max(n, 1))
        for c0 in range(0, len(drows), per):
            R = drows[c0:c0 + per]
            keys = rng.random((len(R), n))
            fr = has_f[R]
            keys[np.nonzero(fr)[0], forbid[R][fr]] = 2.0
            srt = np.argsort(keys, axis=1)
            take = np.arange(n)[None, :] < counts[R][:, None]
            vals = srt[take]
            kR = counts[R]
            start = np.repeat(offsets[R], kR)
            within = np.arange(int(kR.sum())) - np.repeat(np.cumsum(kR) - kR, kR)
            out[start + within] = vals
    return out


def _sample_rows(rng, n_rows, k, n, forbid=None, unique=False):
    """For each of n_rows rows draw k integers in [0, n): a (n_rows, k) array (see _sample_ragged)."""
    return _sample_ragged(rng, np.full(n_rows, k, np.int64), n, forbid, unique).reshape(n_rows, k)


def _int_param(rule, name):
    v = getattr(rule, name)
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < 0:
        raise _bad(rule, name, v, "a non-negative integer")
    return int(v)


def _fixed_degree(rule, k, what, n_rows, n_pool, row_gids, pool_gids, rng):
    """Shared body of fixed_indegree (rows = targets, pool = sources) and fixed_outdegree."""
    partner = "sources" if what == "indegree" else "targets"
    if not rule.allow_multapses and k > n_pool:
        raise _bad(rule, what, k, f"at most {n_pool}, the number of {partner}, when allow_multapses=False "
                   f"(NEST: '{what.capitalize()} cannot be larger than population size')")
    forbid = None
    if not rule.allow_autapses:
        forbid = positions_in(row_gids, pool_gids)
        if not (forbid >= 0).any():
            forbid = None
    if forbid is not None and k > 0:
        overlap = forbid >= 0
        avail = n_pool - 1
        if not rule.allow_multapses and k > avail:
            raise _bad(rule, what, k, f"at most {avail} when allow_autapses=False and allow_multapses=False: "
                       f"{int(overlap.sum())} node(s) are in both collections and may not connect to themselves")
        if avail == 0:
            raise _bad(rule, what, k, f"0: the only one of the {partner} is the node itself and "
                       "allow_autapses=False")
    if k > 0 and n_pool == 0:
        raise _bad(rule, what, k, f"0: there are no {partner}")
    return _sample_rows(rng, n_rows, k, n_pool, forbid, unique=not rule.allow_multapses)


def generate(rule: Rule, pre_gids: np.ndarray, post_gids: np.ndarray, rng: np.random.Generator):
    """Return (i_pre, i_post): positions into pre_gids / post_gids, one entry per connection.

    For symmetric rules the reverse connections (post -> pre) are not included; use
    :func:`generate_gids`, which returns the global ids of all connections.
    """
    pre_gids = np.asarray(pre_gids, dtype=np.int64)
    post_gids = np.asarray(post_gids, dtype=np.int64)
    n_pre, n_post = len(pre_gids), len(post_gids)
    name = rule.name
    if rule.make_symmetric and name not in ("symmetric_pairwise_bernoulli", "one_to_one"):
        raise _bad(rule, "make_symmetric", True, "False: this rule does not support symmetric connections "
                   "(NEST supports make_symmetric for one_to_one and symmetric_pairwise_bernoulli)")

    if name == "given_pairs":
        return np.asarray(rule.i_pre, np.int64), np.asarray(rule.i_post, np.int64)

    if name == "all_to_all":
        i_post, i_pre = np.divmod(np.arange(n_pre * n_post, dtype=np.int64), n_pre)
        if not rule.allow_autapses:
            keep = pre_gids[i_pre] != post_gids[i_post]
            i_pre, i_post = i_pre[keep], i_post[keep]
        return i_pre, i_post

    if name == "one_to_one":
        if n_pre != n_post:
            raise BadParameterError(f"connect rule one_to_one: pre and post must have the same size, got "
                                    f"{n_pre} and {n_post} (NEST: 'Source and Target population must be of "
                                    "the same size').")
        i = np.arange(n_pre, dtype=np.int64)
        if not rule.allow_autapses:
            keep = pre_gids != post_gids
            return i[keep], i[keep]
        return i, i

    if name == "fixed_indegree":
        k = _int_param(rule, "indegree")
        src = _fixed_degree(rule, k, "indegree", n_post, n_pre, post_gids, pre_gids, rng)
        return src.reshape(-1), np.repeat(np.arange(n_post, dtype=np.int64), k)

    if name == "fixed_outdegree":
        k = _int_param(rule, "outdegree")
        tgt = _fixed_degree(rule, k, "outdegree", n_pre, n_post, pre_gids, post_gids, rng)
        return np.repeat(np.arange(n_pre, dtype=np.int64), k), tgt.reshape(-1)

    if name == "fixed_total_number":
        N = _int_param(rule, "N")
        if N == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        forbid = positions_in(post_gids, pre_gids) if not rule.allow_autapses else None
        n_self = 0 if forbid is None else int((forbid >= 0).sum())
        if not rule.allow_multapses:
            n_pairs = n_pre * n_post - n_self
            if N > n_pairs:
                raise _bad(rule, "N", N, f"at most {n_pairs}, the number of possible (source, target) pairs, "
                           "when allow_multapses=False (NEST: 'Total number of connections cannot exceed "
                           "product of source and target population sizes')")
            return _distinct_pairs(rng, N, n_pre, n_post, forbid)
        # NEST: multinomial split of N over the targets, sources drawn uniformly (autapses redrawn)
        if forbid is not None and n_pre == 1 and n_self == n_post:
            raise _bad(rule, "N", N, "0: the only source is each target itself and allow_autapses=False")
        if forbid is not None and n_pre == 1 and n_self > 0:
            # targets whose only candidate source is themselves cannot receive connections
            pv = (forbid < 0).astype(float)
        else:
            pv = np.ones(n_post)
        counts = rng.multinomial(N, pv / pv.sum())
        i_post = np.repeat(np.arange(n_post, dtype=np.int64), counts)
        i_pre = _sample_ragged(rng, counts, n_pre, forbid, unique=False)
        return i_pre, i_post

    if name in ("pairwise_bernoulli", "symmetric_pairwise_bernoulli"):
        p = float(rule.p)
        if not 0.0 <= p <= 1.0:
            raise _bad(rule, "p", rule.p, "a probability with 0 <= p <= 1")
        if name == "symmetric_pairwise_bernoulli":
            if rule.allow_autapses:
                raise _bad(rule, "allow_autapses", True, "False (NEST: 'Autapses must be disabled')")
            if not rule.allow_multapses:
                raise _bad(rule, "allow_multapses", False, "True (NEST: 'Multapses must be enabled'; a pair "
                           "drawn from both of its ends is connected twice in each direction)")
            if not rule.make_symmetric:
                raise _bad(rule, "make_symmetric", False, "True (NEST: 'Symmetric connections must be "
                           "enabled')")
            forbid = positions_in(post_gids, pre_gids)
            if n_pre <= 1:
                if p > 0:
                    raise _bad(rule, "pre", f"{n_pre} node(s)", "at least 2 sources (NEST draws in-degrees "
                               "k < n_pre)")
                return np.zeros(0, np.int64), np.zeros(0, np.int64)
            k = rng.binomial(n_pre, p, size=n_post)
            for _ in range(10_000):  # NEST redraws while k >= n_pre
                bad = k >= n_pre
                if not bad.any():
                    break
                k[bad] = rng.binomial(n_pre, p, size=int(bad.sum()))
            else:
                raise _bad(rule, "p", p, "a probability < 1 (NEST redraws in-degrees k >= n_pre, which never "
                           "ends for p = 1)")
            i_pre = _sample_ragged(rng, k, n_pre, forbid, unique=True)
            return i_pre, np.repeat(np.arange(n_post, dtype=np.int64), k)
        forbid = positions_in(post_gids, pre_gids) if not rule.allow_autapses else None
        n_elig = np.full(n_post, n_pre, np.int64)
        if forbid is not None:
            n_elig -= (forbid >= 0)
        k = rng.binomial(n_elig, p)
        i_pre = _sample_ragged(rng, k, n_pre, forbid, unique=True)
        return i_pre, np.repeat(np.arange(n_post, dtype=np.int64), k)

    if name == "pairwise_poisson":
        lam = float(rule.pairwise_avg_num_conns)
        if not lam >= 0:
            raise _bad(rule, "pairwise_avg_num_conns", rule.pairwise_avg_num_conns, "a value >= 0")
        if not rule.allow_multapses:
            raise _bad(rule, "allow_multapses", False, "True (NEST: 'Multapses must be allowed for this "
                       "connection rule')")
        forbid = positions_in(post_gids, pre_gids) if not rule.allow_autapses else None
        n_elig = np.full(n_post, n_pre, np.int64)
        if forbid is not None:
            n_elig -= (forbid >= 0)
        k = rng.poisson(lam * n_elig)
        i_pre = _sample_ragged(rng, k, n_pre, forbid, unique=False)
        return i_pre, np.repeat(np.arange(n_post, dtype=np.int64), k)

    raise BadParameterError(f"connect: rule {name!r} is not implemented")


def _distinct_pairs(rng, N, n_pre, n_post, forbid):
    """N distinct (pre, post) position pairs, uniformly, excluding post position t paired with forbid[t]."""
    total = n_pre * n_post
    chosen = np.zeros(0, np.int64)
    for _ in range(10_000):
        need = N - len(chosen)
        if need == 0:
            break
        if total <= 4 * N or total <= 1_000_000:
            cand = rng.permutation(total)
        else:
            cand = rng.integers(0, total, size=int(need * 1.2) + 16)
        t, s = np.divmod(cand, n_pre)
        if forbid is not None:
            cand = cand[forbid[t] != s]
        merged = np.concatenate([chosen, cand])
        _, first = np.unique(merged, return_index=True)
        keep = np.sort(first)  # keep order of first occurrence: earlier picks stay
        chosen = merged[keep][:N]
    i_post, i_pre = np.divmod(chosen, n_pre)
    return i_pre.astype(np.int64), i_post.astype(np.int64)


def expected_connections(rule: Rule, n_pre: int, n_post: int) -> float:
    """How many connections ``rule`` makes from n_pre to n_post nodes (the mean for the random rules),
    known before anything is drawn: what connect estimates its memory from. 0 where a rule parameter
    is invalid (:func:`generate` says why)."""
    try:
        name = rule.name
        if name == "all_to_all":
            n = n_pre * n_post
        elif name == "one_to_one":
            n = n_pre
        elif name == "fixed_indegree":
            n = n_post * int(rule.indegree)
        elif name == "fixed_outdegree":
            n = n_pre * int(rule.outdegree)
        elif name == "fixed_total_number":
            n = int(rule.N)
        elif name == "pairwise_bernoulli":
            n = float(rule.p) * n_pre * n_post
        elif name == "symmetric_pairwise_bernoulli":
            n = float(rule.p) * n_pre * n_post
        elif name == "pairwise_poisson":
            n = float(rule.pairwise_avg_num_conns) * n_pre * n_post
        elif name == "given_pairs":
            n = len(rule.i_pre)
        else:
            return 0.0
    except (TypeError, ValueError, AttributeError):
        return 0.0
    n = float(n) * (2 if rule.make_symmetric else 1)
    return n if n > 0 and np.isfinite(n) else 0.0


def generate_gids(rule: Rule, pre_gids, post_gids, rng):
    """(sources, targets, i_pre, i_post): global ids of every connection and, for the first
    ``len(i_pre)`` of them, their positions in pre/post (used to index per-connection arrays).

    Symmetric rules append the reverse connections (post -> pre) of each drawn pair after the forward
    ones, in the same order, so that ``values[m:] = values[:m]`` gives them the same weight and delay.
    """
    pre_gids = np.asarray(pre_gids, dtype=np.int64)
    post_gids = np.asarray(post_gids, dtype=np.int64)
    i_pre, i_post = generate(rule, pre_gids, post_gids, rng)
    src, tgt = pre_gids[i_pre], post_gids[i_post]
    if rule.make_symmetric:
        src, tgt = np.concatenate([src, tgt]), np.concatenate([tgt, src])
    return src, tgt, i_pre, i_post


def connection_values(rule: Rule, name: str, v: np.ndarray, n_pre: int, n_post: int, i_pre, i_post,
                      where: str) -> np.ndarray:
    """Per-connection values from an array given for weight or delay, with NEST's accepted shapes.

    NEST: one_to_one and fixed_total_number take 1-D arrays (one value per connection);
    all_to_all takes (n_post, n_pre), fixed_indegree (n_post, indegree), fixed_outdegree
    (n_pre, outdegree); the other rules take no arrays. A scalar is broadcast.
    """
    v = np.asarray(v, dtype=float)
    n_fwd = len(i_pre)
    if v.ndim == 0:
        out = np.full(n_fwd, float(v))
    else:
        r = rule.name
        if rule.make_symmetric and r != "one_to_one":
            raise BadParameterError(f"{where}: {name} must be a scalar for rule {r} (its two directions share "
                                    "one value; NEST: 'Symmetric connections require parameters that can be "
                                    "reset').")
        if r == "given_pairs":  # values already computed per connection (spatial parameters)
            if v.shape != (n_fwd,):
                raise BadParameterError(f"{where}: {name} array has shape {v.shape}; expected one value per "
                                        f"connection ({n_fwd}).")
            out = v.copy()
        elif r in ("one_to_one", "fixed_total_number"):
            n_exp = n_pre if r == "one_to_one" else int(rule.N)
            if v.ndim != 1 or len(v) != n_exp:
                raise BadParameterError(f"{where}: {name} array has shape {v.shape}; rule {r} expects a "
                                        f"1-D array of {n_exp} values, a scalar or a distribution.")
            out = v[i_pre] if r == "one_to_one" else v.copy()
        elif r in ("all_to_all", "fixed_indegree", "fixed_outdegree"):
            shape, desc = {"all_to_all": ((n_post, n_pre), "(n_post, n_pre)"),
                           "fixed_indegree": ((n_post, getattr(rule, "indegree", 0)), "(n_post, indegree)"),
                           "fixed_outdegree": ((n_pre, getattr(rule, "outdegree", 0)), "(n_pre, outdegree)"),
                           }[r]
            if v.shape != shape:
                raise BadParameterError(f"{where}: {name} array has shape {v.shape}; rule {r} expects "
                                        f"shape {desc} = {shape}, a scalar or a distribution.")
            out = v[i_post, i_pre] if r == "all_to_all" else v.reshape(-1).copy()
        else:
            raise BadParameterError(f"{where}: {name} cannot be an array for rule {r} (the number of "
                                    "connections is random); use a scalar or an nx.random distribution.")
    return symmetric_extend(rule, out)


def symmetric_extend(rule: Rule, values: np.ndarray) -> np.ndarray:
    """Repeat the forward connections' values for the reverse ones of a symmetric rule."""
    if rule.make_symmetric:
        return np.concatenate([values, values])
    return values


# ------------------------------------------------------------------ tripartite (third-factor) connectivity
@dataclass(frozen=True, eq=False)
class given_pairs(Rule):
    """Connections given as positions into (pre, post): how the three projections of a tripartite
    connect are stored through the ordinary connect machinery. Internal; not a conn_spec rule."""
    i_pre: np.ndarray = None
    i_post: np.ndarray = None
    name = "given_pairs"


@dataclass(frozen=True)
class third_factor_bernoulli_with_pool:
    """NEST's third-factor rule of TripartiteConnect (``third_factor_conn_spec``).

    Each primary connection pre -> post gets, with probability ``p``, a third-factor node drawn
    uniformly from the pool of its post node: a connection pre -> third (``third_in``) and one
    third -> post (``third_out``). Pools: ``"random"`` draws ``pool_size`` distinct third nodes per
    post node (the first time the post node needs one); ``"block"`` gives post node k the nodes
    ``third[k * pool_size : (k + 1) * pool_size]`` (pool_size > 1, needs n_post * pool_size = n_third)
    or ``third[k // (n_post / n_third)]`` (pool_size = 1, needs n_post a multiple of n_third).
    ``pool_size=None`` means NEST's default, the whole third population.
    """
    p: float = 1.0
    pool_size: int | None = None
    pool_type: str = "random"
    name = "third_factor_bernoulli_with_pool"

    def params(self):
        return {f.name: getattr(self, f.name) for f in fields(self)}


THIRD_RULES = {third_factor_bernoulli_with_pool.name: third_factor_bernoulli_with_pool}
POOL_TYPES = ("random", "block")
# NEST 3.6's single-dict form: conn_spec={"rule": "tripartite_bernoulli_with_pool", "p_primary", ...}
LEGACY_TRIPARTITE = "tripartite_bernoulli_with_pool"
_LEGACY_KEYS = {"p_primary": None, "p_third_if_primary": "p", "pool_size": "pool_size", "pool_type": "pool_type"}


def _tbad(name, value, expected):
    return BadParameterError(f"tripartite_connect: third_factor_conn_spec {name} = {value!r} is invalid; "
                             f"expected {expected}.")


def split_legacy_tripartite(conn_spec: dict):
    """NEST 3.6's ``{"rule": "tripartite_bernoulli_with_pool", "p_primary", "p_third_if_primary",
    "pool_size", "pool_type"}`` -> (primary conn_spec, third_factor_conn_spec) of NEST 3.10."""
    spec = dict(conn_spec)
    spec.pop("rule")
    primary = {"rule": "pairwise_bernoulli", "p": spec.pop("p_primary", 1.0)}
    third = {"rule": third_factor_bernoulli_with_pool.name}
    for key in list(spec):
        if key in ("allow_autapses", "allow_multapses"):
            primary[key] = spec.pop(key)
        elif _LEGACY_KEYS.get(key):
            third[_LEGACY_KEYS[key]] = spec.pop(key)
        else:
            keys = list(_LEGACY_KEYS) + ["allow_autapses", "allow_multapses"]
            raise BadParameterError(f"tripartite_connect: unknown conn_spec key {key!r} for rule "
                                    f"{LEGACY_TRIPARTITE}.{did_you_mean(key, keys)} Known keys: {', '.join(keys)}.")
    return primary, third


def make_third_rule(spec) -> third_factor_bernoulli_with_pool:
    """The third-factor rule of a ``third_factor_conn_spec`` (dict or rule object), types checked."""
    if isinstance(spec, third_factor_bernoulli_with_pool):
        rule = spec
    else:
        if not isinstance(spec, dict):
            raise BadParameterError(f"tripartite_connect: third_factor_conn_spec must be a dict with a 'rule' "
                                    f"(NEST: {third_factor_bernoulli_with_pool.name!r}); got {spec!r}.")
        spec = dict(spec)
        if "rule" not in spec:
            raise BadParameterError("tripartite_connect: third_factor_conn_spec has no 'rule' (NEST: 'The "
                                    "third-factor connection specification must contain a connection rule'); "
                                    f"known third-factor rules: {', '.join(THIRD_RULES)}.")
        name = spec.pop("rule")
        if name not in THIRD_RULES:
            raise BadParameterError(f"tripartite_connect: unknown third-factor connection rule {name!r} (NEST: "
                                    f"'Unknown third-factor connection rule').{did_you_mean(str(name), THIRD_RULES)}"
                                    f" Known third-factor rules: {', '.join(THIRD_RULES)}.")
        keys = [f.name for f in fields(third_factor_bernoulli_with_pool)]
        for key in spec:
            if key not in keys:
                raise BadParameterError(f"tripartite_connect: unknown third_factor_conn_spec key {key!r} for rule "
                                        f"{name}.{did_you_mean(str(key), keys)} Known keys: {', '.join(keys)}.")
        rule = THIRD_RULES[name](**spec)
    p, k, t = rule.p, rule.pool_size, rule.pool_type
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise _tbad("p", p, "a number (the probability p_third_if_primary)")
    if not 0.0 <= float(p) <= 1.0:
        raise _tbad("p", p, "a probability with 0 <= p <= 1 (NEST: 'Conditional probability of third-factor "
                    "connection 0 <= p_third_if_primary <= 1 required')")
    if k is not None and (isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer))):
        raise _tbad("pool_size", k, "an integer (NEST: 'Failed to cast pool_size to type long')")
    if not isinstance(t, str) or t not in POOL_TYPES:
        raise BadParameterError(f"tripartite_connect: third_factor_conn_spec pool_type = {t!r} is invalid; expected "
                                "'random' or 'block' (NEST: 'pool_type must be 'random' or 'block'')."
                                f"{did_you_mean(str(t), POOL_TYPES)}")
    return rule


def check_third(rule: third_factor_bernoulli_with_pool, n_post: int, n_third: int) -> int:
    """The pool size of ``rule`` for these population sizes, after NEST's checks."""
    k = n_third if rule.pool_size is None else int(rule.pool_size)
    if not 1 <= k <= n_third:
        raise _tbad("pool_size", k, f"1 <= pool_size <= {n_third}, the size of the third-factor population "
                    "(NEST: 'Pool size 1 <= pool_size <= size of third-factor population required')")
    if rule.pool_type == "block" and not (n_post * k == n_third or (k == 1 and n_post % n_third == 0)):
        need = (f"pool_size = 1 with {n_post} post nodes a multiple of the {n_third} third-factor nodes, "
                f"or pool_size = {n_third / n_post:g} so that n_post * pool_size = n_third"
                if n_third % n_post == 0 else
                f"pool_size = 1 with n_post a multiple of n_third (here {n_post} and {n_third}), or "
                "n_post * pool_size = n_third")
        raise _tbad("pool_size", k, f"a block pool that fits: {need}; otherwise use pool_type 'random' (NEST: "
                    "'The sizes of target and third-factor populations and the chosen pool size do not fit')")
    return k


def generate_third(rule: third_factor_bernoulli_with_pool, i_post, n_post: int, n_third: int,
                   rng: np.random.Generator):
    """For primary connections with post positions ``i_post``: (m, i_third), the positions in the
    primary list of the connections that get a third-factor node and that node's position in third.

    Distribution as NEST's ThirdBernoulliWithPoolBuilder: a Bernoulli(p) trial per primary
    connection; a random pool is a uniform sample of pool_size distinct third nodes per post node,
    a block pool a fixed slice; the node is uniform in the pool (no draw for pool_size 1).
    """
    k = check_third(rule, n_post, n_third)
    i_post = np.asarray(i_post, np.int64)
    p = float(rule.p)
    m = np.flatnonzero(rng.random(len(i_post)) < p) if p < 1.0 else np.arange(len(i_post), dtype=np.int64)
    if len(m) == 0:
        return m.astype(np.int64), np.zeros(0, np.int64)
    tgt = i_post[m]
    pick = np.zeros(len(m), np.int64) if k == 1 else rng.integers(0, k, size=len(m), dtype=np.int64)
    if rule.pool_type == "block":
        first = tgt * k if k > 1 else tgt // (n_post // n_third)
        return m, first + pick
    # random pools, drawn only for the post nodes that need one; kept sorted (NEST samples in order)
    needed, row = np.unique(tgt, return_inverse=True)
    pools = np.sort(_sample_rows(rng, len(needed), k, n_third, unique=True), axis=1)
    return m, pools[row.reshape(-1), pick]


__all__ = ["Rule", "make_rule", "generate", "generate_gids", "connection_values", "positions_in",
           "expected_connections", "given_pairs", "third_factor_bernoulli_with_pool", "make_third_rule",
           "generate_third", *RULES]
