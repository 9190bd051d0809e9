"""The orders area (blueprint filled in by its issue)."""
