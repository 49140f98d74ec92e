"""A data owner reviewing their database in the Dagster UI, in headless Chromium, after `hdh-pipeline run`: the
database asset with its charts inline and links that open, a table's reject reasons, a failed check's counts, the
documentation to-do, and the CLI's run in the UI's timeline."""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.browser import CHROMIUM, FLAGS, needs_chromium
from tests.postgres import free_port
from tests.test_deployment import REPO, VENV_BIN, _graphql, _wait


@contextlib.contextmanager
def _started(*commands: list[str], env: dict[str, str], log: Path) -> Iterator[None]:
    processes = [subprocess.Popen(command, cwd=REPO, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT,
                                  start_new_session=True) for command in commands]
    try:
        yield
    finally:
        for process in processes:
            os.killpg(process.pid, 15)
            process.wait(timeout=30)


def _opens(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status == 200


def _markdown(page, label: str) -> str:
    """The text of a markdown metadata entry the UI shows behind `[Show Markdown]`, next to its label."""
    row = page.locator("tr", has_text=label).first
    row.get_by_text("[Show Markdown]").click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    return dialog.inner_text()  # left open: the test goes to another page next


@needs_chromium
def test_an_owner_reviews_their_database_in_the_ui(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    ui, public, internal = free_port(), free_port(), free_port()
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "HDH_DATA_DIR": str(tmp_path / "out"),
           "HDH_EXPECTATIONS_DIR": str(tmp_path / "expectations"), "HDH_PUBLIC_URL": f"http://127.0.0.1:{public}/",
           "HDH_INTERNAL_URL": f"http://127.0.0.1:{internal}/"}
    env.pop("HDH_SOURCES", None)
    run = subprocess.run([VENV_BIN / "hdh-pipeline", "run", "--source", "demo"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 3, run.stderr  # published; the demo's injected defects fail error checks
    log = tmp_path / "servers.log"
    with _started([VENV_BIN / "dagster-webserver", "-w", "workspace.yaml", "-p", str(ui)],
                  [VENV_BIN / "hdh-pipeline", "serve", "--port", str(public)],
                  [VENV_BIN / "hdh-pipeline", "serve", "--internal", "--port", str(internal)], env=env, log=log):
        _wait("the webserver", lambda: _opens(f"http://127.0.0.1:{ui}/server_info"))
        # the CLI's run belongs to the code location: the timeline and the job's page show it
        runs = _graphql(ui, """{ runsOrError(filter: {pipelineName: "demo_refresh"}) { ... on Runs { results {
            repositoryOrigin { repositoryLocationName repositoryName } } } } }""")["runsOrError"]["results"]
        assert runs and runs[0]["repositoryOrigin"] == {"repositoryLocationName": "hdh_pipeline.definitions",
                                                        "repositoryName": "__repository__"}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.goto(f"http://127.0.0.1:{ui}/assets/demo/database")
            page.get_by_text("SNDS_synthetique_realiste_demo").first.wait_for(timeout=60_000)  # its group: its title
            if page.get_by_text("Skip", exact=True).count():  # the community dialog of a first visit
                page.get_by_text("Skip", exact=True).click()
            for chart in ("pyramid", "sex", "coverage", "completeness", "quality"):
                image = page.locator(f'img[alt="{chart}"]')
                image.scroll_into_view_if_needed()
                _wait(f"the {chart} chart", lambda image=image: image.evaluate("i => i.complete && i.naturalWidth"),
                      seconds=30)
                link = image.locator("xpath=..").get_attribute("href")
                assert link.startswith(f"http://127.0.0.1:{public}/charts/demo/") and _opens(link)
            for link in (f"http://127.0.0.1:{public}/site/demo/index.html",
                         f"http://127.0.0.1:{internal}/demo/data_docs/index.html"):
                assert page.locator(f'a[href="{link}"]').count() and _opens(link)
            assert "least complete variables" in page.inner_text("body")
            page.screenshot(path=str(tmp_path / "database.png"))

            page.goto(f"http://127.0.0.1:{ui}/assets/demo/database?view=checks&checkDetail=documentation")
            todo = _markdown(page, "to_do")
            assert "producer's web site" in todo and "contact email" in todo

            page.goto(f"http://127.0.0.1:{ui}/assets/demo/ER_PRS_F?view=checks&checkDetail=loaded")
            reasons = _markdown(page, "rejected_lines_by_reason")
            assert "value of the wrong type" in reasons and "PRS_PAI_MNT" in reasons and "69" in reasons
            page.goto(f"http://127.0.0.1:{ui}/assets/demo/IR_BEN_R?view=checks&checkDetail=quality_suite")
            checks = _markdown(page, "every_check")
            assert "primary_key:BEN_NIR_PSA+BEN_RNG_GEM" in checks and "failing rows" in checks
            report = f"http://127.0.0.1:{internal}/demo/checks.html"
            assert page.locator(f'a[href="{report}"]').count() and _opens(report)
            browser.close()
