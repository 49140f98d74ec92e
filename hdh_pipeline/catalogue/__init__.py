"""The public catalogue: its tables, disclosure control, publication."""
