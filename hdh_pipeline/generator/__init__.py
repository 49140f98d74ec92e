"""Synthetic SNDS-shaped sources with exact ground truth: the demo, test data and benchmark data."""
