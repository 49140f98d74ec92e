"""Shared fixtures: sources written under tmp_path, a warehouse file per test, the real data beside the repo."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from hdh_pipeline.engines.duckdb.engine import DuckDBEngine
from hdh_pipeline.engines.duckdb.load import LoadResult, load_table
from hdh_pipeline.engines.duckdb.warehouse import write_connection
from hdh_pipeline.profile.source import SourceProfile, profile_source
from hdh_pipeline.quality import parallel
from hdh_pipeline.sources.loader import Source, load_source
from hdh_pipeline.vocabulary import reference_date

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
EXAMPLES = REPO_ROOT / "assets" / "examples"


def profile(conn, source: Source, k: int) -> SourceProfile:
    """The source's profile, from the warehouse `conn` holds."""
    return profile_source(DuckDBEngine.for_source(conn, source), source, k)


def declared_reference(source: Source) -> object:
    """The reference date of a source that declares one (else today), for quality checks run without a profile."""
    return reference_date(source.declaration.reference_date, None)


@pytest.fixture(autouse=True)
def no_helper_outlives_its_test():
    """Quality helpers a test's run warmed and its quality step did not take exit with the test."""
    yield
    parallel.release()


def needs_shared(name: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not (SHARED_DATA / name).exists(), reason=f"../shared/data/{name} is not here")


def declaration(**overrides) -> dict:
    base = {
        "id": "src",
        "title": "Test source",
        "producer": {"name": "Tests"},
        "licence": "CC0",
        "location": "data",
    }
    return base | overrides


@pytest.fixture
def write_source(tmp_path: Path):
    """Write files, optional Table Schemas and a declaration; return the loaded Source."""

    def write(files: dict[str, bytes | str], schemas: dict[str, list[dict]] | None = None, **overrides) -> Source:
        for name, content in files.items():
            path = tmp_path / "data" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
        if schemas:
            (tmp_path / "schemas").mkdir(exist_ok=True)
            for table, fields in schemas.items():
                (tmp_path / "schemas" / f"{table}.json").write_text(json.dumps({"name": table, "fields": fields}))
            overrides.setdefault("dictionary", {"path": "schemas"})
        file = tmp_path / "source.yaml"
        file.write_text(yaml.safe_dump(declaration(**overrides)))
        return load_source(file)

    return write


@pytest.fixture
def load(tmp_path: Path):
    """Load one table of a source into tmp_path/warehouse.duckdb."""

    def run(source: Source, table: str) -> LoadResult:
        [entry] = [t for t in source.tables if t.name == table]
        with write_connection(tmp_path / "warehouse.duckdb") as conn:
            return load_table(conn, source.declaration, entry, tmp_path / "staging")

    return run


@pytest.fixture
def query(tmp_path: Path):
    import duckdb

    def run(sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
            return conn.execute(sql, params or []).fetchall()

    return run


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The Quickstart's run of the demo, once for the whole session: (its root folder, what it printed).
    The root holds `out/` (HDH_DATA_DIR) and `expectations/` (HDH_EXPECTATIONS_DIR)."""
    import contextlib
    import io

    from hdh_pipeline import cli

    root = tmp_path_factory.mktemp("demo")
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.delenv("HDH_SOURCES", raising=False)
        patch.delenv("DAGSTER_HOME", raising=False)
        patch.setenv("HDH_DATA_DIR", str(root / "out"))
        patch.setenv("HDH_EXPECTATIONS_DIR", str(root / "expectations"))
        assert cli.main(["run", "--source", "demo"]) == 3  # published; its injected defects fail error checks
    return root, printed.getvalue()


@pytest.fixture(scope="session")
def published_demo(demo_run) -> tuple[Path, dict]:
    """(the published version's folder, its tables) after the Quickstart's run of the demo."""
    from tests import attacker

    root, _ = demo_run
    version = (root / "out" / "catalogue" / "current").resolve()
    return version, attacker.read(version / "catalogue.duckdb")
