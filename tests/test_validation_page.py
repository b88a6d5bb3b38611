"""docs/validation_measured.md is the rendering of docs/validation_measured.json (docs/gen_validation.py),
and every deviation recorded there by the parity tests (tests/parity/validation.py) is within the
tolerance its test asserts."""
from __future__ import annotations

import json
import math
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RECORDS = json.loads((DOCS / "validation_measured.json").read_text())


@pytest.fixture(scope="module")
def gen():
    sys.path.insert(0, str(DOCS))
    try:
        import gen_validation
    finally:
        sys.path.remove(str(DOCS))
    return gen_validation


def test_page_is_the_rendering_of_the_committed_json(gen):
    committed = (DOCS / "validation_measured.md").read_text()
    assert gen.render(RECORDS) == committed, "docs/validation_measured.md is stale: run python docs/gen_validation.py"
    assert gen.render() == committed
    assert "## iaf_psc_exp" in committed and "## Registered models without a recorded parity case" in committed


def test_records_are_well_formed_and_unique():
    keys = {"model", "case", "quantity", "measured", "tolerance", "kind", "test"}
    assert len(RECORDS) > 100
    for r in RECORDS:
        assert set(r) == keys, r
        assert r["kind"] in ("exact", "integrator", "statistical"), r
        assert r["test"].startswith("test_") and (ROOT / "tests" / "parity" / r["test"]).exists(), r
        assert math.isfinite(r["measured"]) and math.isfinite(r["tolerance"]) and r["tolerance"] >= 0, r
    assert len({(r["model"], r["case"]) for r in RECORDS}) == len(RECORDS)
    assert RECORDS == sorted(RECORDS, key=lambda r: (r["model"], r["case"]))


@pytest.mark.parametrize("kind", ["exact", "integrator", "statistical"])
def test_every_measured_deviation_is_within_its_tolerance(kind):
    rows = [r for r in RECORDS if r["kind"] == kind]
    assert rows, f"no {kind} record"
    over = [(r["model"], r["case"], r["measured"], r["tolerance"])
            for r in rows if not 0 <= r["measured"] <= r["tolerance"]]
    assert not over, over


def test_exact_models_are_exact_to_far_below_their_tolerance():
    """The exact-integration neurons agree with NEST to rounding, not just to 1e-9."""
    for model in ("iaf_psc_delta", "iaf_psc_exp", "iaf_psc_alpha"):
        rows = [r for r in RECORDS if r["model"] == model and r["kind"] == "exact" and "V_m" in r["quantity"]]
        assert rows, model
        assert max(r["measured"] for r in rows) < 1e-10, model


def test_recording_api_merges_by_model_and_case(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from parity import validation
    finally:
        sys.path.remove(str(ROOT / "tests"))
    monkeypatch.setattr(validation, "RECORDS", [])
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "tests/parity/test_x.py::test_a[1] (call)")
    validation.record("m", "V_m", 1e-12, 1e-9, "exact", "V_m max abs dev (mV)")
    validation.record("m", "V_m", 3e-12, 1e-9, "exact", "V_m max abs dev (mV)")  # worst of a session kept
    validation.record("m", "w", 0.0, 0.0, "exact", "weight")
    with pytest.raises(ValueError, match="kind"):
        validation.record("m", "x", 0.0, 1.0, "roughly")
    out = tmp_path / "v.json"
    out.write_text(json.dumps([{"model": "m", "case": "test_a[1] V_m", "measured": 5.0, "tolerance": 9.0,
                                "kind": "exact", "quantity": "", "test": "old.py"},
                               {"model": "a", "case": "c", "measured": 1.0, "tolerance": 2.0,
                                "kind": "statistical", "quantity": "", "test": "old.py"}]))
    validation.write(out, failed={"tests/parity/test_x.py::test_b"})
    got = json.loads(out.read_text())
    assert [(r["model"], r["case"], r["measured"], r["test"]) for r in got] == [
        ("a", "c", 1.0, "old.py"), ("m", "test_a[1] V_m", 3e-12, "test_x.py"), ("m", "test_a[1] w", 0.0, "test_x.py")]
    validation.write(out, failed={"tests/parity/test_x.py::test_a[1]"})   # a failed test leaves no record
    assert json.loads(out.read_text()) == got
