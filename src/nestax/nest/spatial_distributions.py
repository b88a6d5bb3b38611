"""PyNEST's ``nest.spatial_distributions``: gaussian, exponential, gaussian2D and gamma of a spatial
parameter (nestax.spatial_distributions)."""
from ..spatial_distributions import exponential, gamma, gaussian, gaussian2D

__all__ = ["gaussian", "exponential", "gaussian2D", "gamma"]
