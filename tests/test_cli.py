"""The command line: `sources`, `run` (the Quickstart's) and `suites`."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from hdh_pipeline import cli
from hdh_pipeline.vocabulary import DEFAULT_K
from tests import attacker
from tests.conftest import REPO_ROOT


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HDH_SOURCES", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("HDH_DATA_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("HDH_EXPECTATIONS_DIR", str(tmp_path / "expectations"))
    return tmp_path


def test_sources_lists_the_demo(env: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["sources"]) == 0
    assert "demo: 4 tables (4 in the dictionary), 5 code lists" in capsys.readouterr().out


def test_sources_reports_a_broken_declaration(env: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture) -> None:
    (env / "bad.yaml").write_text("id: Bad\n")
    monkeypatch.setenv("HDH_SOURCES", str(env / "bad.yaml"))
    assert cli.main(["sources"]) == 2
    assert f"{env / 'bad.yaml'}: invalid source declaration" in capsys.readouterr().err


def test_run_reports_a_broken_declaration_in_one_message(env: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture) -> None:
    (env / "bad.yaml").write_text("id: Bad\n")
    monkeypatch.setenv("HDH_SOURCES", str(env / "bad.yaml"))
    assert cli.main(["run"]) == 2
    err = capsys.readouterr().err
    assert f"{env / 'bad.yaml'}: invalid source declaration" in err and "Traceback" not in err


def test_help_lists_the_environment(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "HDH_DATA_DIR" in capsys.readouterr().out


def test_run_then_suites(demo_run, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["run", "--source", "nope"]) == 2
    assert "unknown source ids: nope" in capsys.readouterr().err
    root, out = demo_run  # `run --source demo`, exit code 3: published, but its defects fail error checks
    truth = json.loads((REPO_ROOT / "assets" / "demo" / "ground_truth.json").read_text())["tables"].values()
    [line] = [line.split() for line in out.splitlines() if line.startswith("demo ")]
    assert line == ["demo", str(len(truth)), f"{sum(t['loaded_rows'] for t in truth):,}",
                    f"{sum(t['rejected_lines'] for t in truth):,}"]
    assert "Failed checks (error):" in out and "demo/IR_BEN_R quality_suite" in out
    public = attacker.read(root / "out" / "catalogue" / "current" / "catalogue.duckdb")
    assert public["quality_results"] and attacker.leaks(public, {"demo": DEFAULT_K}) == []
    assert (root / "out" / "quality" / "demo" / "data_docs" / "index.html").exists()
    monkeypatch.delenv("HDH_SOURCES", raising=False)
    monkeypatch.setenv("HDH_DATA_DIR", str(root / "out"))
    monkeypatch.setenv("HDH_EXPECTATIONS_DIR", str(root / "expectations"))
    assert cli.main(["suites", "demo"]) == 0
    assert sorted(p.name for p in (root / "expectations" / "demo").glob("*.json")) == [
        "ER_PRS_F.json", "IR_BEN_R.json", "KI_CCI_R.json", "T_MCOaaB.json"]
    assert cli.main(["suites", "nope"]) == 2


def test_a_failing_source_does_not_stop_the_others(env: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture) -> None:
    """Refreshing every source: one whose file vanished keeps its previous published entry, the others
    publish, and the refresh record names the stale one."""
    for name in ("good", "bad"):
        (env / name).mkdir()
        (env / name / "t.csv").write_text("x\n" + "".join(f"{i}\n" for i in range(30)))
        (env / f"{name}.yaml").write_text(f"id: {name}\ntitle: {name}\nproducer: {{name: P}}\nlicence: CC0\n"
                                          f"location: {name}\ntables: {{t: {{}}}}\n")
    monkeypatch.setenv("HDH_SOURCES", f"{env / 'good.yaml'}:{env / 'bad.yaml'}")
    assert cli.main(["run"]) in (0, 3)
    (env / "bad" / "t.csv").unlink()
    (env / "good" / "t.csv").write_text("x\n" + "".join(f"{i}\n" for i in range(40)))
    capsys.readouterr()
    assert cli.main(["run"]) == 1  # a step failed
    assert "bad_tables" in capsys.readouterr().err
    public = attacker.read(env / "out" / "catalogue" / "current" / "catalogue.duckdb")
    rows = {(t["source_id"], t["table_name"]): t["row_count"] for t in public["tables"]}
    assert rows[("good", "t")] == 40 and rows[("bad", "t")] == 30  # refreshed, and the previous entry
    last = max(public["refreshes"], key=lambda r: r["finished_at"])
    assert last["outcome"] == "partial"
    assert last["stale_sources"].startswith("bad (t: its files could not be read; last profiled at ")
    assert "good" not in last["stale_sources"] and "demo" not in last["stale_sources"]


def test_a_failed_profile_is_named_in_the_refresh_record(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hdh_pipeline.defs import profile as profile_assets

    path = _one_source(env, monkeypatch, GOOD)
    assert cli.main(["run"]) in (0, 3)
    path.write_text(GOOD + "999,visit 999\n")

    profile_source = profile_assets.profile_source

    def broken(engine, source, k):
        if source.id == "src":
            raise RuntimeError("out of disk")
        return profile_source(engine, source, k)

    with monkeypatch.context() as patch:
        patch.setattr(profile_assets, "profile_source", broken)
        assert cli.main(["run"]) == 1
    rows, last = _published_rows(env)
    assert rows == 200 and last["stale_sources"].startswith("src ((profile): its profile failed; last profiled at")
    assert "demo" not in last["stale_sources"]  # the other source published
    assert cli.main(["run"]) in (0, 3)  # profiled again: no longer stale
    rows, last = _published_rows(env)
    assert rows == 201 and last["stale_sources"] is None


def _one_source(env: Path, monkeypatch: pytest.MonkeyPatch, text: str, encoding: str = "utf-8") -> Path:
    folder = env / "src"
    folder.mkdir(exist_ok=True)
    (folder / "t.csv").write_bytes(text.encode(encoding))
    (env / "src.yaml").write_text("id: src\ntitle: src\nproducer: {name: P}\nlicence: CC0\nlocation: src\n"
                                  "tables: {t: {types: {n: INTEGER}}}\n")
    monkeypatch.setenv("HDH_SOURCES", str(env / "src.yaml"))
    return folder / "t.csv"


def _published_rows(env: Path) -> tuple[int, dict]:
    public = attacker.read(env / "out" / "catalogue" / "current" / "catalogue.duckdb")
    rows = {(t["source_id"], t["table_name"]): t["row_count"] for t in public["tables"]}
    return rows[("src", "t")], max(public["refreshes"], key=lambda r: r["finished_at"])


def _warehouse_rows(env: Path) -> int:
    import duckdb
    with duckdb.connect(str(env / "out" / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute("SELECT count(*) FROM src.t").fetchone()[0]


GOOD = "n,label\n" + "".join(f"{i},{'séjour' if i % 4 == 0 else 'visit'} {i}\n" for i in range(200))


@pytest.mark.parametrize("delivery", ["wrong encoding", "truncated"])
def test_the_guard_keeps_the_previous_version(delivery: str, env: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture) -> None:
    """A re-delivered file in the wrong encoding, or cut in the middle, is refused: the previous table and
    catalogue stay, the step fails (exit 1) saying why and how to accept; `--accept` takes it deliberately."""
    path = _one_source(env, monkeypatch, GOOD)
    assert cli.main(["run"]) in (0, 3)
    assert _published_rows(env)[0] == 200
    if delivery == "wrong encoding":
        path.write_bytes(GOOD.encode("latin-1"))  # a line in four has an accent: invalid UTF-8
    else:
        path.write_text(GOOD[: len(GOOD) // 2])  # half the lines, the last one cut
    capsys.readouterr()
    assert cli.main(["run"]) == 1
    err = capsys.readouterr().err
    assert "table t: new load refused" in err and "--accept src.t" in err
    assert _warehouse_rows(env) == 200
    rows, last = _published_rows(env)
    assert rows == 200 and last["stale_sources"].startswith("src (t: new load refused by the publication guard")
    assert cli.main(["run", "--accept", "src.t"]) in (0, 3)
    accepted = _warehouse_rows(env)
    assert accepted < 200 and _published_rows(env)[0] == accepted


def test_serve_says_what_to_do_before_any_publication(env: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["serve", "--port", "0"]) == 2
    assert "run `hdh-pipeline run` first" in capsys.readouterr().err


def test_the_settings_are_documented_from_one_table(capsys: pytest.CaptureFixture) -> None:
    """`--help` and the README's table are written from settings.SETTINGS; nothing reads the environment elsewhere."""
    from hdh_pipeline import settings

    assert settings.markdown_table() in (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    shown = capsys.readouterr().out
    assert all(setting.name in shown for setting in settings.SETTINGS)
    readers = [path for path in (REPO_ROOT / "hdh_pipeline").rglob("*.py")
               if "os.environ" in path.read_text(encoding="utf-8")]
    assert sorted(p.name for p in readers) == ["processes.py", "settings.py"]  # children: their parent


def test_every_link_of_the_documentation_opens() -> None:
    """README's and docs/'s relative links name files of the repository (a page promised and not written fails);
    examples in code blocks are not links."""
    import re

    pages = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
    texts = {page: re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S) for page in pages}
    broken = [f"{page.name}: {target}" for page, text in texts.items()
              for target in re.findall(r"\]\(([^)#:\s]+)(?:#[^)]*)?\)", text)
              if not (page.parent / target).exists()]
    assert broken == []
