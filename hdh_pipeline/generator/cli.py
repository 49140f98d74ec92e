"""`hdh-generate`: write a synthetic SNDS-shaped source with its dictionary, declaration and ground truth."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml
from tqdm import tqdm

from hdh_pipeline.generator.generate import DEMO_BENEFICIARIES, Settings, generate

EPILOG = """examples:
  hdh-generate --out /tmp/snds --beneficiaries 100000
  hdh-generate --out /tmp/big --beneficiaries 2000000 --format parquet --no-defects
  hdh-generate --out /tmp/snds --rates rates.yaml   # {IR_BEN_R: {BEN_SEX_COD: {missing: 0.05}}}

Writes OUT/data/*.csv|parquet|xpt, OUT/schemas/*.json (Table Schema, SNDS flavour),
OUT/nomenclatures/*.csv (xpt: OUT/formats.xpt, SAS formats), OUT/ground_truth.json (exact rows and defect counts) and,
unless --declaration says elsewhere, OUT/source.yaml: point HDH_SOURCES at it to ingest.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hdh-generate", description=__doc__, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder to write (created if absent)")
    parser.add_argument("--beneficiaries", type=int, default=DEMO_BENEFICIARIES,
                        help="number of people; claims (~12 a year each), stays and deaths follow "
                             f"(default {DEMO_BENEFICIARIES})")
    parser.add_argument("--seed", type=int, default=2024, help="same seed, same bytes (default 2024)")
    parser.add_argument("--format", choices=["csv", "parquet", "xpt"], default="csv", dest="file_format",
                        help="csv, parquet, or SAS transport files with their formats (xpt)")
    parser.add_argument("--reference-year", type=int, default=2024, help="last year covered (default 2024)")
    parser.add_argument("--id", default="synthetic", help="source id written in the declaration")
    parser.add_argument("--declaration", type=Path,
                        help="where to write the source declaration (default OUT/source.yaml)")
    rates = parser.add_mutually_exclusive_group()
    rates.add_argument("--defect-rate", type=float,
                       help="one rate for every defect (default: 1%% missing, 0.2%% others)")
    rates.add_argument("--no-defects", action="store_true", help="a clean source: every rate 0")
    parser.add_argument("--rates", type=Path, help="YAML {table: {column: {kind: rate}}} overriding single rates")
    parser.add_argument("--chunk-size", type=int, default=20_000, help="beneficiaries held in memory at once")
    args = parser.parse_args(argv)
    if args.beneficiaries < 1 or args.chunk_size < 2:
        parser.error("--beneficiaries must be at least 1 and --chunk-size at least 2")

    overrides = yaml.safe_load(args.rates.read_text()) if args.rates else {}
    settings = Settings(
        out=args.out, beneficiaries=args.beneficiaries, seed=args.seed, file_format=args.file_format,
        reference_year=args.reference_year, chunk_size=args.chunk_size,
        defect_rate=0.0 if args.no_defects else args.defect_rate, rates=overrides or {},
    )
    try:
        with tqdm(total=args.beneficiaries, unit=" people", desc="generating", disable=None) as bar:
            truth = generate(settings, args.declaration or args.out / "source.yaml", args.id, bar.update)
    except ValueError as error:
        print(f"hdh-generate: {error}", file=sys.stderr)
        return 2
    for table, facts in truth["tables"].items():
        injected = sum(sum(kinds.values()) for kinds in facts["defects"].values())
        print(f"{table:<10}{facts['rows']:>12,} rows{injected:>10,} defects{facts['rejected_lines']:>8,} broken lines")
    print(f"written to {args.out} (ground truth: {args.out / 'ground_truth.json'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
