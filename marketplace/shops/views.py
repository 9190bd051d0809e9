"""Shop pages (filled in below)."""
