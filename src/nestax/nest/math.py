"""PyNEST's ``nest.math``: exp, sin, cos, min, max and pow of spatial parameters (and of
``nest.random`` draws inside them), evaluated per connection (nestax.spatial); redraw(param, min, max)
of a ``nest.random`` draw (nestax.random.redraw)."""
from ..random import redraw
from ..spatial import cos, exp, max, min, pow, sin  # noqa: A004

__all__ = ["exp", "sin", "cos", "min", "max", "pow", "redraw"]
