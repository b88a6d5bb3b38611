"""PyNEST's ``nest.spatial``: positions for ``nest.Create(..., positions=...)`` (grid, free) and the
spatial parameters distance (with .x / .y / .z), source_pos, target_pos and pos (nestax.spatial)."""
from ..spatial import distance, free, grid, pos, source_pos, target_pos

__all__ = ["grid", "free", "distance", "source_pos", "target_pos", "pos"]
