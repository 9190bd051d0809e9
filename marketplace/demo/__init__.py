"""Demo data: the real villages of Hanoi plus generated shops, products and drawn photos."""
