"""Generator throughput and peak memory at two sizes, each in its own process.

    python benchmarks/generator.py                 # about 1M and 20M claim rows
    python benchmarks/generator.py --format parquet

Peak RSS should stay flat from 1M to 20M claim rows: the generator holds one chunk at a time.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from isolated import alone, peak_mb

from hdh_pipeline.generator.generate import Settings, generate

CLAIMS_PER_PERSON = 34.5  # over the three years, measured on the default settings


def run(beneficiaries: int, file_format: str, out: str) -> tuple[int, float, float, float]:
    started = time.perf_counter()
    truth = generate(Settings(out=Path(out), beneficiaries=beneficiaries, file_format=file_format))
    seconds = time.perf_counter() - started
    rows = sum(t["rows"] for t in truth["tables"].values())
    size = sum(p.stat().st_size for p in (Path(out) / "data").iterdir()) / 1e6
    return rows, seconds, size, peak_mb()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument("--claims", type=float, nargs="+", default=[1e6, 20e6], help="claim rows to aim for")
    args = parser.parse_args()
    print(f"{'claim rows':>12}{'people':>10}{'all rows':>12}{'seconds':>9}{'rows/s':>12}{'MB out':>9}"
          f"{'peak RSS MB':>13}")
    for claims in args.claims:
        people = int(claims / CLAIMS_PER_PERSON)
        with tempfile.TemporaryDirectory() as out:
            rows, seconds, size, rss = alone(run, people, args.format, out)
        print(f"{claims:>12,.0f}{people:>10,}{rows:>12,}{seconds:>9.1f}{rows / seconds:>12,.0f}{size:>9,.0f}"
              f"{rss:>13,.0f}")


if __name__ == "__main__":
    main()
