"""The thin Dagster layer: resources, asset factories, schedules. Logic lives in the domain packages."""
