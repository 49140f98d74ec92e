"""Private, exact statistics of the ingested tables: what the catalogue is computed from."""
