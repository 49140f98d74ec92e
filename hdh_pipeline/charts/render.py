"""vl-convert's work, in a process of its own: Vega-Lite specs drawn to PNG, and the Vega JavaScript bundle.

vl-convert holds the GIL for the whole of a call (seconds: a wide source's completeness heatmap, the bundle), so
in a thread it would stop the caller's Python meanwhile. `python -m hdh_pipeline.charts.render VL_VERSION`
(the Vega-Lite version of the specs) reads commands on its standard input, one a line, until its end, and exits
non-zero at the first that fails:
- `png LANGUAGE SPEC.vl.json`: draw SPEC.png (and SPEC.1x.png, at the spec's size) beside the spec, numbers in
  the language's format (fr, en);
- `bundle FILE`: write the bundle of Vega, Vega-Lite and Vega-Embed to FILE.
"""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import vl_convert as vlc

from hdh_pipeline import processes
from hdh_pipeline.words import CHART_LOCALES


def render_png(vl_version: str, language: str, spec_file: Path) -> None:
    """SPEC.png beside SPEC.vl.json (twice the spec's size, for sharp screens), and SPEC.1x.png at its size (for
    pages that cannot size an image, as the Dagster UI's metadata)."""
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    locale = vlc.get_format_locale(CHART_LOCALES[language])
    for scale, suffix in ((2, ".png"), (1, ".1x.png")):
        spec_file.with_name(spec_file.name.removesuffix(".vl.json") + suffix).write_bytes(vlc.vegalite_to_png(
            spec, vl_version=vl_version, scale=scale, format_locale=locale))


def write_bundle(vl_version: str, file: Path) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    part = file.with_suffix(f".{os.getpid()}.part")
    part.write_text(vlc.javascript_bundle(vl_version=vl_version), encoding="utf-8")
    part.replace(file)


class Renderer:
    """The process, started; `send` it commands; `finish` waits for it and raises, with its log, if it failed."""

    def __init__(self, vl_version: str):
        self.log = tempfile.TemporaryFile()  # a pipe could fill and stall it
        self.process = processes.start(__name__, vl_version, background=True, stdin=subprocess.PIPE, stdout=self.log,
                                       stderr=subprocess.STDOUT, text=True)  # the caller's work comes first

    def send(self, *command: object) -> None:
        try:
            self.process.stdin.write(" ".join(map(str, command)) + "\n")
            self.process.stdin.flush()
        except OSError:  # it has died: `finish` says why
            pass

    def end_input(self) -> None:
        """No more commands: it exits once they are carried out."""
        with contextlib.suppress(OSError):
            self.process.stdin.close()

    def finish(self) -> None:
        self.end_input()
        code = processes.wait(self.process, processes.WORK_SECONDS)
        self.log.seek(0)
        log = self.log.read().decode(errors="replace").strip()
        self.log.close()
        if code:
            raise RuntimeError(f"drawing charts failed (exit code {code}): {log[-1500:]}")

    def stop(self) -> None:
        processes.stop(self.process)
        self.log.close()


def main() -> None:
    vl_version = sys.argv[1]
    for line in sys.stdin:
        command, _, argument = line.rstrip("\n").partition(" ")
        try:
            if command == "png":
                language, _, spec_file = argument.partition(" ")
                render_png(vl_version, language, Path(spec_file))
            elif command == "bundle":
                write_bundle(vl_version, Path(argument))
            else:
                raise ValueError("unknown command")
        except Exception as error:
            sys.exit(f"{command} {argument}: {type(error).__name__}: {error}")


if __name__ == "__main__":
    main()
