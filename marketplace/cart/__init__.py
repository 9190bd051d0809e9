"""The cart area (blueprint filled in by its issue)."""
