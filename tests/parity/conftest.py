"""Writes the parity tests' measured deviations (tests/parity/validation.py) as JSON at the end of the
session when NESTAX_VALIDATION_OUT names a file: ``NESTAX_VALIDATION_OUT=docs/validation_measured.json
python -m pytest tests/parity/test_x.py``, then ``python docs/gen_validation.py``."""
import os

from . import validation

_FAILED: set = set()


def pytest_runtest_logreport(report):
    if report.failed:
        _FAILED.add(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    out = os.environ.get("NESTAX_VALIDATION_OUT")
    if out and validation.RECORDS:
        validation.write(out, failed=_FAILED)
