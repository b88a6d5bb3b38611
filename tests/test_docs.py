"""The documentation site: every ```python block of every page runs (each page in one namespace, in
order, in a scratch directory), the API reference is what docs/gen_api.py writes from the docstrings,
and ``mkdocs build --strict`` succeeds."""
from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# docs/model_anatomy.md runs in tests/test_model_anatomy_doc.py (with checks of its own)
PAGES = sorted(p for p in DOCS.glob("*.md") if p.name != "model_anatomy.md")


def _blocks(page):
    return re.findall(r"^```python\n(.*?)^```", page.read_text(), flags=re.S | re.M)


@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p)], ids=lambda p: p.name)
def test_every_code_block_on_the_page_runs(page, tmp_path, monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    monkeypatch.chdir(tmp_path)
    ns = {"__name__": f"docs.{page.stem}"}
    for i, code in enumerate(_blocks(page)):
        try:
            exec(compile(code, f"{page.name}[block {i}]", "exec"), ns)
        except Exception as e:  # pragma: no cover - the message says which block failed
            raise AssertionError(f"{page.name}, code block {i} fails: {type(e).__name__}: {e}\n{code}") from e
        finally:
            plt.close("all")


def test_api_reference_is_generated_from_the_docstrings():
    sys.path.insert(0, str(DOCS))
    try:
        import gen_api
    finally:
        sys.path.remove(str(DOCS))
    committed = (DOCS / "api.md").read_text()
    assert gen_api.render() == committed, "docs/api.md is stale: run python docs/gen_api.py"
    assert "## nestax.Simulator" in committed and "### `Simulator.simulate(" in committed


def test_mkdocs_builds_strict(tmp_path):
    if shutil.which("mkdocs") is None and not os.environ.get("CI"):
        pytest.skip("mkdocs is not installed (pip install -e '.[test]')")
    p = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
                       cwd=ROOT, capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))
    assert p.returncode == 0, p.stdout + p.stderr
    assert (tmp_path / "site" / "pynest" / "index.html").exists()
