"""Front-end files served from disk: nothing public or internal loads a script, style or font from a CDN.

They come from the npm registry at install time (`assets/web/package.json`, pinned; `make install`
runs `npm ci` there) and are copied, with their licences, beside the pages that use them: Great
Expectations' Data Docs (whose templates name CDN addresses, rewritten here to the local copies)
and the catalogue's charts and site (Vega, Vega-Lite, Vega-Embed).
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from hdh_pipeline.settings import REPO_ROOT

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
VEGA = ("vega/build/vega.min.js", "vega-lite/build/vega-lite.min.js", "vega-embed/build/vega-embed.min.js")
ALONG = {"@fortawesome/fontawesome-free/css/all.min.css": "@fortawesome/fontawesome-free/webfonts"}  # its fonts


class MissingAssets(RuntimeError):
    pass


def root() -> Path:
    """`HDH_WEB_ASSETS` (default assets/web/node_modules)."""
    return Path(os.environ.get("HDH_WEB_ASSETS", REPO_ROOT / "assets" / "web" / "node_modules"))


def local(url: str) -> str | None:
    """The package path of a CDN address we serve locally, or None."""
    for prefix, path in CDN.items():
        if url == prefix or (prefix.endswith("/") and url.startswith(prefix)):
            return path + url[len(prefix):] if prefix.endswith("/") else path
    return None


def copy(paths: set[str], folder: Path) -> None:
    """Copy package files (and their packages' licences) under `folder`, keeping their package paths."""
    source = root()
    absent = sorted(p for p in paths if not (source / p).is_file())
    if absent:
        raise MissingAssets(f"front-end files missing under {source}: {', '.join(absent)}; "
                            "run `make install` (npm ci in assets/web)")
    for path in paths:
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / path, target)
        if path in ALONG:
            shutil.copytree(source / ALONG[path], folder / ALONG[path], dirs_exist_ok=True)
        package = _package(path)
        for licence in (source / package).glob("LICEN[CS]E*"):
            shutil.copyfile(licence, folder / package / licence.name)


def _package(path: str) -> str:
    parts = path.split("/")
    return "/".join(parts[:2] if parts[0].startswith("@") else parts[:1])


EXTERNAL_ASSET = re.compile(r'<(script|link|img)\b[^>]*\b(?:src|href)="(https?://[^"]*)"[^>]*>(\s*</script>)?', re.I)
INTEGRITY = re.compile(r'\s(integrity|crossorigin)="[^"]*"')


def make_offline(folder: Path) -> None:
    """Rewrite the pages under `folder` (Great Expectations' Data Docs) to load their scripts, styles and fonts
    from copies beside them (`static/vendor`) instead of CDNs: nothing is fetched from the network, and the
    index's list and filters work offline. Any other external asset is removed."""
    vendor = folder / "static" / "vendor"
    pages = {page: page.read_text(encoding="utf-8") for page in folder.rglob("*.html")}
    copy({path for html in pages.values() for m in EXTERNAL_ASSET.finditer(html) if (path := local(m.group(2)))},
         vendor)

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
