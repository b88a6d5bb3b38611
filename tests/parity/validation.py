"""Recording of the deviations the parity tests measure, for the generated page docs/validation_measured.md.

A parity test that has computed a deviation between nestax and NEST (or a statistic against its bound)
calls :func:`record` with the model, a short case label, the measured value, the tolerance it asserts
and the kind of comparison:

- ``'exact'``: exact integration or deterministic bookkeeping (tolerance ~1e-9 or identical),
- ``'integrator'``: numerically integrated models (RKF45 step by step, Euler),
- ``'statistical'``: random models, compared by a statistic against a bound (z-score, SE, ...).

``measured`` and ``tolerance`` are floats in the unit named by ``quantity`` (e.g. ``'V_m max abs dev
(mV)'`` or ``'rate |z|'``); a record states ``measured <= tolerance``. Records go to an in-memory list;
tests/parity/conftest.py writes them as JSON at the end of the session when the environment variable
``NESTAX_VALIDATION_OUT`` names a file (records of failed tests are dropped; a case recorded several
times in a session keeps its worst record; the file's records of other cases are kept, those of the
same (model, case) replaced).
Recording never changes what a test asserts.
"""
from __future__ import annotations

import fcntl
import json
import os

KINDS = ("exact", "integrator", "statistical")
RECORDS: list = []


def current_test():
    """(test file, test name with parameters) of the running test, from pytest's PYTEST_CURRENT_TEST."""
    cur = os.environ.get("PYTEST_CURRENT_TEST", "")
    node = cur.rsplit(" (", 1)[0]
    path, _, name = node.partition("::")
    return path, name


def record(model, case, measured, tolerance, kind, quantity=""):
    """Note one measured deviation of ``model`` in ``case`` (a short label, prefixed with the test name)."""
    if kind not in KINDS:
        raise ValueError(f"validation.record: kind {kind!r} is not one of {KINDS}")
    path, name = current_test()
    full = f"{name} {case}".strip() if name else str(case)
    RECORDS.append({
        "model": str(model), "case": full, "quantity": str(quantity),
        "measured": float(measured), "tolerance": float(tolerance), "kind": kind,
        "test": os.path.basename(path) if path else "",
        "nodeid": os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0],
    })


def record_worst(model, case, worst: dict, tolerance, kind, unit=None):
    """One record per recordable of a ``{var: max abs deviation}`` dict; ``tolerance`` a number or a
    function ``var -> number``; ``unit`` a function ``var -> unit string`` (or None)."""
    for var, dev in worst.items():
        tol = tolerance(var) if callable(tolerance) else tolerance
        un = unit(var) if callable(unit) else unit
        q = f"{var} max abs dev" + (f" ({un})" if un else "")
        record(model, f"{case} {var}".strip(), dev, tol, kind, q)


def merge(old: list, new: list) -> list:
    """Records keyed by (model, case); a later record replaces an earlier one. Sorted by model, case."""
    out = {(r["model"], r["case"]): r for r in old}
    for r in new:
        out[(r["model"], r["case"])] = r
    return [out[k] for k in sorted(out)]


def _ratio(r):
    return r["measured"] / r["tolerance"] if r["tolerance"] > 0 else (0.0 if r["measured"] == 0 else float("inf"))


def worst_per_case(records: list) -> list:
    """One record per (model, case): the one closest to (or furthest past) its tolerance."""
    out: dict = {}
    for r in records:
        k = (r["model"], r["case"])
        if k not in out or _ratio(r) > _ratio(out[k]):
            out[k] = r
    return list(out.values())


def write(path, failed=()):
    """Merge this session's records (except those of ``failed`` node ids; the worst one where a case was
    recorded several times) into the JSON file ``path``, replacing the file's records of the same cases."""
    failed = set(failed)
    new = [{k: v for k, v in r.items() if k != "nodeid"} for r in worst_per_case(RECORDS) if r["nodeid"] not in failed]
    # pytest-xdist workers each write their own records at their session's end: a lock on the file keeps
    # their read-merge-write steps apart, so that none loses another's records
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        text = f.read()
        old = json.loads(text) if text.strip() else []
        f.seek(0)
        f.truncate()
        json.dump(merge(old, new), f, indent=1, sort_keys=True)
        f.write("\n")
