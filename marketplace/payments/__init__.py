"""The payments area (blueprint filled in by its issue)."""
