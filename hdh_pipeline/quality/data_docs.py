"""Great Expectations' Data Docs offline: their pages load scripts, styles and fonts from CDNs; the same files
come with the package (VENDOR, filled at install time from the npm registry, pinned by
`assets/web/package-lock.json`: `make install` runs `python -m hdh_pipeline.quality.data_docs NODE_MODULES`), and
are copied, with their licences, beside the pages, which are rewritten to load them from there.

Data Docs are a report for people; the quality indicators never depend on them: without these files (an install
that skipped npm), Data Docs are not written, with one warning, and every check still runs.
"""
from __future__ import annotations

import os
import re
import shutil
import sys
from importlib.resources import files
from pathlib import Path

VENDOR = Path(__file__).parent / "vendor"
# CDN address prefix -> the same files in an npm package (folder under node_modules)
CDN = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/": "popper.js/dist/",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/": "bootstrap/dist/",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/": "bootstrap/dist/",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/": "bootstrap-datepicker/dist/",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/": "@fortawesome/fontawesome-free/",
    "https://unpkg.com/bootstrap-table@1.19.0/": "bootstrap-table/",
    "https://unpkg.com/bootstrap-table@1.19.1/": "bootstrap-table/",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/": "@forevolve/bootstrap-dark/",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/build/vega-embed.min.js",
}
ALONG = {"@fortawesome/fontawesome-free/css/all.min.css": "@fortawesome/fontawesome-free/webfonts"}  # its fonts
EXTERNAL_ASSET = re.compile(r'<(script|link|img)\b[^>]*\b(?:src|href)="(https?://[^"]*)"[^>]*>(\s*</script>)?', re.I)
INTEGRITY = re.compile(r'\s(integrity|crossorigin)="[^"]*"')


def local(url: str) -> str | None:
    """The package path of a CDN address we serve locally, or None."""
    for prefix, path in CDN.items():
        if url == prefix or (prefix.endswith("/") and url.startswith(prefix)):
            return path + url[len(prefix):] if prefix.endswith("/") else path
    return None


def available() -> bool:
    """Whether the package carries the front-end files."""
    return (VENDOR / "jquery" / "dist" / "jquery.min.js").is_file()


def _package(path: str) -> str:
    parts = path.split("/")
    return "/".join(parts[:2] if parts[0].startswith("@") else parts[:1])


def _copy(paths: set[str], source: Path, target: Path) -> None:
    """Copy package files (and their packages' licences) from `source` to `target`, keeping their package paths."""
    absent = sorted(p for p in paths if not (source / p).is_file())
    if absent:
        raise FileNotFoundError(f"front-end files missing under {source}: {', '.join(absent)}")
    for path in paths:
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / path, target / path)
        if path in ALONG:
            shutil.copytree(source / ALONG[path], target / ALONG[path], dirs_exist_ok=True)
        for licence in (source / _package(path)).glob("LICEN[CS]E*"):
            shutil.copyfile(licence, target / _package(path) / licence.name)


def fill(node_modules: Path) -> None:
    """Copy into VENDOR every file that Great Expectations' page templates load from a CDN."""
    templates = files("great_expectations") / "render"
    urls = {m.group(2) for path in Path(str(templates)).rglob("*") if path.is_file() and path.suffix in (".j2", ".py")
            for m in EXTERNAL_ASSET.finditer(path.read_text(encoding="utf-8", errors="replace"))}
    shutil.rmtree(VENDOR, ignore_errors=True)
    _copy({path for url in urls if (path := local(url))}, node_modules, VENDOR)


def make_offline(folder: Path) -> None:
    """Rewrite the pages under `folder` to load their scripts, styles and fonts from copies beside them
    (`static/vendor`) instead of CDNs: nothing is fetched from the network, and the index's list and filters work
    offline. Any other external asset is removed."""
    vendor = folder / "static" / "vendor"
    pages = {page: page.read_text(encoding="utf-8") for page in folder.rglob("*.html")}
    _copy({path for html in pages.values() for m in EXTERNAL_ASSET.finditer(html) if (path := local(m.group(2)))},
          VENDOR, vendor)
    for page, html in pages.items():
        if not EXTERNAL_ASSET.search(html):
            continue  # rewritten already (a page of an earlier run)

        def swap(match: re.Match, page: Path = page) -> str:
            path = local(match.group(2))
            if path is None:
                return ""
            tag = match.group(0).replace(match.group(2), os.path.relpath(vendor / path, page.parent))
            return INTEGRITY.sub("", tag)  # the local copy may be another patch release than the CDN's

        page.write_text(EXTERNAL_ASSET.sub(swap, html), encoding="utf-8")


if __name__ == "__main__":
    fill(Path(sys.argv[1]))
