"""The package as a user installs it: a wheel built from the repository, installed into an empty virtual
environment, run outside the source tree, makes the demo's catalogue with its charts, site and Data Docs."""
from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from hdh_pipeline.quality import data_docs
from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of an empty venv where the repository's wheel is installed (its dependencies from the
    registry, or pip's cache)."""
    if not data_docs.available():
        pytest.skip("the package's front-end files are not filled (make install)")
    root = tmp_path_factory.mktemp("package")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--wheel-dir", str(root / "dist"), str(REPO_ROOT)], check=True, cwd=root)
    [wheel] = (root / "dist").glob("hdh_pipeline-*.whl")
    venv.create(root / "venv", with_pip=True)
    bin_dir = root / "venv" / "bin"
    subprocess.run([bin_dir / "python", "-m", "pip", "install", "--quiet", str(wheel)], check=True, cwd=root,
                   timeout=1200)
    return bin_dir


def test_the_wheel_runs_the_demo_outside_the_source_tree(installed: Path, tmp_path: Path) -> None:
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HDH_", "DAGSTER_", "PYTHON"))}
    env["PATH"] = f"{installed}:{env['PATH']}"
    subprocess.run(["hdh-generate", "--out", "demo", "--id", "demo"], check=True, cwd=work, env=env)
    run = subprocess.run(["hdh-pipeline", "run"], cwd=work, env=env | {"HDH_SOURCES": "demo/source.yaml"},
                         capture_output=True, text=True, timeout=900)
    assert run.returncode in (0, 3), run.stderr  # 3: the demo's injected defects fail error-severity checks
    assert "site-packages" in subprocess.run(["python", "-c", "import hdh_pipeline; print(hdh_pipeline.__file__)"],
                                             capture_output=True, text=True, env=env, cwd=work).stdout
    current = work / "data" / "catalogue" / "current"
    assert (current / "charts" / "demo" / "pyramid.png").read_bytes()[:4] == b"\x89PNG"
    assert "demo/index.html" in (current / "site" / "index.html").read_text(encoding="utf-8")
    assert (current / "site" / "pagefind").is_dir()
    docs = work / "data" / "quality" / "demo" / "data_docs"
    pages = list(docs.rglob("*.html"))
    assert (docs / "index.html") in pages and (docs / "static" / "vendor" / "jquery" / "dist" / "jquery.min.js").is_file()
    assert not any(data_docs.EXTERNAL_ASSET.search(page.read_text(encoding="utf-8")) for page in pages)
    assert "Data Docs of demo not written" not in run.stderr
