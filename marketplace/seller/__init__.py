"""The seller area (blueprint filled in by its issue)."""
