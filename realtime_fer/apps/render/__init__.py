"""Renderers: the overlay drawn onto frames, and the report made from a faces CSV (no printing)."""
