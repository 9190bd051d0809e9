"""The api area (blueprint filled in by its issue)."""
