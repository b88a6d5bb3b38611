"""PyNEST's ``nest.random`` parameters: uniform(min, max), normal(mean, std), lognormal(mean, std) and
exponential(beta) and uniform_int(max), combined with numbers by + - * /, drawn per connection or node where a value is expected (nestax.random)."""
from ..random import exponential, lognormal, normal, uniform, uniform_int

__all__ = ["uniform", "normal", "lognormal", "exponential", "uniform_int"]

