"""The admin area (blueprint filled in by its issue)."""
