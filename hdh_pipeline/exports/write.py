"""Write the exports of a catalogue version: HealthDCAT-AP (Turtle, JSON-LD) and a Data Package per source.

    exports/catalogue.ttl, exports/catalogue.jsonld    every source, one dcat:Dataset each
    exports/<source>/datapackage.json                  Frictionless Data Package (descriptor only)
    exports/<source>/dico-snds/                        the SNDS interactive dictionary's app_data files
    exports/<source>/documentation/                    pages for the collaborative SNDS documentation: README.md,
                                                       <product>/<table>.md
"""
from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from hdh_pipeline import processes
from hdh_pipeline.exports.datapackage import data_package
from hdh_pipeline.exports.dcat import catalogue_graph
from hdh_pipeline.exports.dico_snds import write_dico_snds
from hdh_pipeline.exports.documentation import write_documentation


def write_exports(public: dict[str, list[dict]], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    graph = catalogue_graph(public)
    graph.serialize(folder / "catalogue.ttl", format="turtle", encoding="utf-8")
    graph.serialize(folder / "catalogue.jsonld", format="json-ld", encoding="utf-8")
    for database in public["databases"]:
        target = folder / database["source_id"]
        target.mkdir(exist_ok=True)
        package = data_package(public, database["source_id"])
        (target / "datapackage.json").write_text(json.dumps(package, ensure_ascii=False, indent=1, default=str),
                                                 encoding="utf-8")
        write_dico_snds(public, database["source_id"], target / "dico-snds")
        write_documentation(public, database["source_id"], target / "documentation")


@contextlib.contextmanager
def exporting(version: Path) -> Iterator[None]:
    """The exports of a catalogue version, from its published tables, written by another process while the block
    runs (rdflib's serialisers are Python: seconds on a wide catalogue, while this one draws charts and pages).
    Raises, naming the version, if they fail."""
    with tempfile.TemporaryFile() as log:
        # at a lower priority: the site, which the publication waits for too, comes first
        process = processes.start(__name__, str(version), background=True, stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            yield
        except BaseException:
            processes.stop(process)
            raise
        if processes.wait(process, processes.WORK_SECONDS):
            log.seek(0)
            raise RuntimeError(f"the exports of catalogue version {version.name} failed: "
                               f"{log.read().decode(errors='replace').strip()[-1500:]}")


if __name__ == "__main__":
    from hdh_pipeline.catalogue.publish import read_version

    write_exports(read_version(Path(sys.argv[1])), Path(sys.argv[1]) / "exports")
