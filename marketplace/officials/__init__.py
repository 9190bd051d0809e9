"""The officials area (blueprint filled in by its issue)."""
