"""Quality indicators: Great Expectations suites run inside DuckDB."""
