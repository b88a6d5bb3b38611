"""PyNEST's ``nest.math``: exp, sin, cos, min, max and pow of spatial parameters (and of
``nest.random`` draws inside them), evaluated per connection (nestax.spatial)."""
from ..spatial import cos, exp, max, min, pow, sin  # noqa: A004

__all__ = ["exp", "sin", "cos", "min", "max", "pow"]
