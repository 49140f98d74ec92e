"""The code location Dagster loads (`workspace.yaml`, `pyproject.toml`): the one Definitions object of every
declared source and the catalogue (defs/assemble.py)."""
from hdh_pipeline.defs.assemble import PUBLISH_JOB, SOURCES_JOB, build_definitions

__all__ = ["PUBLISH_JOB", "SOURCES_JOB", "build_definitions", "defs"]

defs = build_definitions()
