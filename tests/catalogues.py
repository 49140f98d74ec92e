"""Two runs' public catalogues side by side: a declaration copied with changes, `hdh-pipeline run` of it alone,
and what differs between the two catalogues, cell by cell (floats within 1e-9 relative)."""
from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests import attacker
from tests.conftest import REPO_ROOT, SHARED_DATA

THIS_RUN = {"refreshes"}  # the refresh's own id and times
RUN_TIMES = {"last_refresh", "run_at", "detected_at", "refreshed_at"}


def declared(source_file: Path, folder: Path, **changes) -> Path:
    """A copy of a declaration in `folder`, its paths made absolute, with `changes`."""
    text = source_file.read_text(encoding="utf-8").replace("${HDH_SHARED_DATA:-../../../shared/data}",
                                                           str(SHARED_DATA))
    declaration = yaml.safe_load(text)

    def absolute(path: str) -> str:
        return path if "://" in path else str((source_file.parent / path).resolve())

    declaration["location"] = absolute(declaration["location"])
    for key in ("dictionary", "nomenclatures"):
        if key in declaration:
            declaration[key]["path"] = absolute(declaration[key]["path"])
    if "formats" in declaration:
        declaration["formats"] = absolute(declaration["formats"])
    declaration |= changes
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / f"{declaration['id']}.yaml"
    file.write_text(yaml.safe_dump(declaration, allow_unicode=True), encoding="utf-8")
    return file


def run_cli(root: Path, declarations: list[Path], **env: str) -> subprocess.CompletedProcess:
    """`hdh-pipeline run` of these declarations alone (its working directory has no assets/sources), outputs under
    root."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("HDH_", "DAGSTER_HOME"))}
    environment |= {"HDH_SOURCES": ":".join(map(str, declarations)), "HDH_DATA_DIR": str(root / "out"),
                    "HDH_EXPECTATIONS_DIR": str(root / "expectations"), "HDH_SPARK_MASTER": "local[2]",
                    "PYTHONPATH": str(REPO_ROOT)} | env
    return subprocess.run([sys.executable, "-m", "hdh_pipeline.cli", "run"], cwd=root, env=environment,
                          capture_output=True, text=True, timeout=1800)


def published(root: Path) -> dict[str, list[dict]]:
    return attacker.read(root / "out" / "catalogue" / "current" / "catalogue.duckdb")


def same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
    return a == b


def differences(duck: dict[str, list[dict]], spark: dict[str, list[dict]]) -> list[str]:
    """What differs between two catalogues, but this run's own times and ids."""
    found = [f"table {name} is only in one" for name in set(duck) ^ set(spark)]
    for name in sorted(set(duck) & set(spark) - THIS_RUN):
        rows = [[sorted(((k, v) for k, v in row.items() if k not in RUN_TIMES), key=lambda kv: kv[0])
                 for row in catalogue[name]] for catalogue in (duck, spark)]
        a, b = (sorted(r, key=repr) for r in rows)
        if len(a) != len(b):
            found.append(f"{name}: {len(a)} rows against {len(b)}")
            continue
        for x, y in zip(a, b):
            bad = [(k, u, v) for (k, u), (_, v) in zip(x, y) if not same(u, v)]
            if bad:
                found.append(f"{name} {dict(x).get('table_name', '')} {dict(x).get('variable', '')}: {bad[:3]}")
    return found
