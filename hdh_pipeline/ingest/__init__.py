"""Reading source files into the DuckDB warehouse."""
