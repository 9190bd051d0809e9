"""The search area (blueprint filled in by its issue)."""
