"""Connection rules, as NEST's conn_spec.

Each rule turns (pre, post) node collections into index arrays (i_pre, i_post) of positions in those
collections. All sampling is vectorised NumPy drawn from a Generator that the Simulator derives from
its seed, so the same script builds the same network; nothing allocates n_pre x n_post arrays except
all_to_all and the pairwise rules on small populations (chunked otherwise).

Rule objects (``nx.fixed_indegree(10)``) and NEST's dict / keyword form (``rule='fixed_indegree',
indegree=10``) are both accepted.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import BadParameterError, did_you_mean


@dataclass(frozen=True)
class Rule:
    allow_autapses: bool = True
    allow_multapses: bool = True
    name = "rule"

    def params(self):
        return {}


@dataclass(frozen=True)
class all_to_all(Rule):
    name = "all_to_all"


@dataclass(frozen=True)
class one_to_one(Rule):
    name = "one_to_one"


@dataclass(frozen=True)
class fixed_indegree(Rule):
    indegree: int = 1
    allow_autapses: bool = True
    allow_multapses: bool = True
    name = "fixed_indegree"


@dataclass(frozen=True)
class fixed_outdegree(Rule):
    outdegree: int = 1
    allow_autapses: bool = True
    allow_multapses: bool = True
    name = "fixed_outdegree"


@dataclass(frozen=True)
class fixed_total_number(Rule):
    N: int = 1
    allow_autapses: bool = True
    allow_multapses: bool = True
    name = "fixed_total_number"


@dataclass(frozen=True)
class pairwise_bernoulli(Rule):
    p: float = 1.0
    allow_autapses: bool = True
    allow_multapses: bool = False
    name = "pairwise_bernoulli"


@dataclass(frozen=True)
class symmetric_pairwise_bernoulli(Rule):
    p: float = 1.0
    allow_autapses: bool = False
    allow_multapses: bool = True
    name = "symmetric_pairwise_bernoulli"


@dataclass(frozen=True)
class pairwise_poisson(Rule):
    pairwise_avg_num_conns: float = 1.0
    allow_autapses: bool = True
    allow_multapses: bool = True
    name = "pairwise_poisson"


RULES = {r.name: r for r in (all_to_all, one_to_one, fixed_indegree, fixed_outdegree, fixed_total_number,
                             pairwise_bernoulli, symmetric_pairwise_bernoulli, pairwise_poisson)}


def make_rule(rule, kwargs: dict) -> Rule:
    """Build a Rule from a rule object, a name and keyword arguments, or a NEST conn_spec dict.

    Consumes the rule's keywords from ``kwargs``.
    """
    if isinstance(rule, dict):
        spec = dict(rule)
        name = spec.pop("rule", "all_to_all")
        kwargs = {**spec, **kwargs}
        rule = name
    if isinstance(rule, Rule):
        return rule
    if isinstance(rule, type) and issubclass(rule, Rule):
        rule = rule.name
    if rule is None:
        rule = "all_to_all"
    if rule not in RULES:
        raise BadParameterError(f"connect: unknown rule {rule!r}.{did_you_mean(rule, RULES)} "
                                f"Known rules: {', '.join(RULES)}.")
    cls = RULES[rule]
    fields = [f for f in cls.__dataclass_fields__]
    args = {f: kwargs.pop(f) for f in fields if f in kwargs}
    return cls(**args)


def _bad(rule, name, value, expected):
    return BadParameterError(f"connect rule {rule.name}: {name} = {value!r} is invalid; expected {expected}.")


def _sample_rows(rng, n_rows, k, n, forbid=None, unique=False):
    """For each of n_rows rows draw k integers in [0, n), optionally avoiding forbid[row] and duplicates.

    Vectorised rejection: draw everything, then redraw only the offending entries until none is left.
    For dense draws without replacement (k > n/2) a per-row permutation is used instead.
    """
    if k == 0 or n_rows == 0:
        return np.zeros((n_rows, k), dtype=np.int64)
    if unique and k > n // 2:
        out = np.empty((n_rows, k), dtype=np.int64)
        for r in range(n_rows):  # dense case, at most n_rows * n work
            if forbid is None:
                out[r] = rng.choice(n, size=k, replace=False)
            else:
                cand = np.delete(np.arange(n), forbid[r]) if 0 <= forbid[r] < n else np.arange(n)
                out[r] = rng.choice(cand, size=k, replace=False)
        return out
    x = rng.integers(0, n, size=(n_rows, k))
    for _ in range(1000):
        bad = np.zeros(x.shape, dtype=bool)
        if forbid is not None:
            bad |= x == forbid[:, None]
        if unique:
            order = np.argsort(x, axis=1, kind="stable")
            xs = np.take_along_axis(x, order, axis=1)
            dup_sorted = np.zeros_like(bad)
            dup_sorted[:, 1:] = xs[:, 1:] == xs[:, :-1]
            dup = np.zeros_like(bad)
            np.put_along_axis(dup, order, dup_sorted, axis=1)
            bad |= dup
        nb = int(bad.sum())
        if nb == 0:
            return x
        x[bad] = rng.integers(0, n, size=nb)
    raise RuntimeError("connection sampling did not converge")


def generate(rule: Rule, pre_gids: np.ndarray, post_gids: np.ndarray, rng: np.random.Generator):
    """Return (i_pre, i_post): positions into pre_gids / post_gids, one entry per connection."""
    n_pre, n_post = len(pre_gids), len(post_gids)
    name = rule.name
    if name == "all_to_all":
        i_post, i_pre = np.divmod(np.arange(n_pre * n_post, dtype=np.int64), n_pre)
        if not rule.allow_autapses:
            keep = pre_gids[i_pre] != post_gids[i_post]
            i_pre, i_post = i_pre[keep], i_post[keep]
        return i_pre, i_post

    if name == "one_to_one":
        if n_pre != n_post:
            raise _bad(rule, "sizes", (n_pre, n_post), "pre and post collections of equal size")
        i = np.arange(n_pre, dtype=np.int64)
        if not rule.allow_autapses:
            keep = pre_gids != post_gids
            return i[keep], i[keep]
        return i, i

    # position in pre of each post node (for autapse exclusion), -1 where post is not in pre
    def self_index(targets, sources):
        lookup = {int(g): j for j, g in enumerate(sources)}
        return np.array([lookup.get(int(g), -1) for g in targets], dtype=np.int64)

    if name == "fixed_indegree":
        k = int(rule.indegree)
        if k < 0 or k != rule.indegree:
            raise _bad(rule, "indegree", rule.indegree, "a non-negative integer")
        forbid = None if rule.allow_autapses else self_index(post_gids, pre_gids)
        avail = n_pre - (0 if forbid is None else (forbid >= 0).max(initial=0))
        if not rule.allow_multapses and k > avail:
            raise _bad(rule, "indegree", k, f"at most {avail} (the number of available sources) when "
                       "allow_multapses=False")
        if k > 0 and avail <= 0:
            raise _bad(rule, "indegree", k, "0: there are no sources to draw from")
        src = _sample_rows(rng, n_post, k, n_pre, forbid, unique=not rule.allow_multapses)
        return src.reshape(-1), np.repeat(np.arange(n_post, dtype=np.int64), k)

    if name == "fixed_outdegree":
        k = int(rule.outdegree)
        if k < 0 or k != rule.outdegree:
            raise _bad(rule, "outdegree", rule.outdegree, "a non-negative integer")
        forbid = None if rule.allow_autapses else self_index(pre_gids, post_gids)
        avail = n_post - (0 if forbid is None else (forbid >= 0).max(initial=0))
        if not rule.allow_multapses and k > avail:
            raise _bad(rule, "outdegree", k, f"at most {avail} (the number of available targets) when "
                       "allow_multapses=False")
        if k > 0 and avail <= 0:
            raise _bad(rule, "outdegree", k, "0: there are no targets to draw from")
        tgt = _sample_rows(rng, n_pre, k, n_post, forbid, unique=not rule.allow_multapses)
        return np.repeat(np.arange(n_pre, dtype=np.int64), k), tgt.reshape(-1)

    if name == "fixed_total_number":
        N = int(rule.N)
        if N < 0 or N != rule.N:
            raise _bad(rule, "N", rule.N, "a non-negative integer")
        if not rule.allow_multapses and N > n_pre * n_post:
            raise _bad(rule, "N", N, f"at most n_pre*n_post = {n_pre * n_post} when allow_multapses=False")
        if rule.allow_multapses:
            i_pre = rng.integers(0, n_pre, N)
            i_post = rng.integers(0, n_post, N)
            if not rule.allow_autapses:
                for _ in range(1000):
                    bad = pre_gids[i_pre] == post_gids[i_post]
                    if not bad.any():
                        break
                    i_pre[bad] = rng.integers(0, n_pre, bad.sum())
                    i_post[bad] = rng.integers(0, n_post, bad.sum())
            return i_pre, i_post
        flat = rng.choice(n_pre * n_post, size=N, replace=False)
        i_post, i_pre = np.divmod(flat, n_pre)
        if not rule.allow_autapses:
            keep = pre_gids[i_pre] != post_gids[i_post]
            while not keep.all():
                i_pre, i_post = i_pre[keep], i_post[keep]
                taken = set((i_post * n_pre + i_pre).tolist())
                extra = rng.choice(n_pre * n_post, size=N - len(i_pre), replace=False)
                extra = np.array([e for e in extra if e not in taken], dtype=np.int64)
                ep, eq = np.divmod(extra, n_pre)
                i_pre, i_post = np.concatenate([i_pre, eq]), np.concatenate([i_post, ep])
                keep = pre_gids[i_pre] != post_gids[i_post]
            i_pre, i_post = i_pre[:N], i_post[:N]
        return i_pre, i_post

    if name in ("pairwise_bernoulli", "symmetric_pairwise_bernoulli", "pairwise_poisson"):
        if name == "pairwise_poisson":
            lam = float(rule.pairwise_avg_num_conns)
            if not lam >= 0:
                raise _bad(rule, "pairwise_avg_num_conns", lam, "a value >= 0")
            if not rule.allow_multapses:
                raise _bad(rule, "allow_multapses", False, "True (pairwise_poisson may connect a pair several times)")
        else:
            p = float(rule.p)
            if not 0.0 <= p <= 1.0:
                raise _bad(rule, "p", p, "a probability in [0, 1]")
        if name == "symmetric_pairwise_bernoulli":
            if rule.allow_autapses:
                raise _bad(rule, "allow_autapses", True, "False for symmetric_pairwise_bernoulli")
            if not rule.allow_multapses:
                raise _bad(rule, "allow_multapses", False, "True for symmetric_pairwise_bernoulli")
        pres, posts = [], []
        rows = max(1, 2_000_000 // max(n_pre, 1))  # bound temporary memory
        for r0 in range(0, n_post, rows):
            r1 = min(n_post, r0 + rows)
            if name == "pairwise_poisson":
                cnt = rng.poisson(lam, size=(r1 - r0, n_pre))
            else:
                cnt = (rng.random((r1 - r0, n_pre)) < p).astype(np.int64)
            if name == "symmetric_pairwise_bernoulli":
                # decide each unordered pair once: keep the draw for post position > pre position
                jj, ii = np.meshgrid(np.arange(n_pre), np.arange(r0, r1))
                cnt[~(ii > jj)] = 0
            if not rule.allow_autapses:
                same = post_gids[r0:r1, None] == pre_gids[None, :]
                cnt[same] = 0
            q, j = np.nonzero(cnt)
            m = cnt[q, j]
            pres.append(np.repeat(j, m))
            posts.append(np.repeat(q + r0, m))
        i_pre = np.concatenate(pres) if pres else np.zeros(0, np.int64)
        i_post = np.concatenate(posts) if posts else np.zeros(0, np.int64)
        if name == "symmetric_pairwise_bernoulli":
            if not np.array_equal(np.sort(pre_gids), np.sort(post_gids)):
                raise _bad(rule, "pre/post", "different collections", "the same collection as pre and post")
            # mirror: position i_post in post is the same node as position index in pre
            pos_in_pre = {int(g): j for j, g in enumerate(pre_gids)}
            pos_in_post = {int(g): j for j, g in enumerate(post_gids)}
            back_pre = np.array([pos_in_pre[int(post_gids[q])] for q in i_post], dtype=np.int64)
            back_post = np.array([pos_in_post[int(pre_gids[j])] for j in i_pre], dtype=np.int64)
            i_pre, i_post = np.concatenate([i_pre, back_pre]), np.concatenate([i_post, back_post])
        return i_pre.astype(np.int64), i_post.astype(np.int64)

    raise BadParameterError(f"connect: rule {name!r} is not implemented")


__all__ = ["Rule", "make_rule", "generate", *RULES]
