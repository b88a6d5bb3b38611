"""PyNEST's ``nest.logic``: ``conditional(condition, param_if_true, param_if_false)``, per node or
connection, with a comparison of parameters as condition (``nest.spatial.distance < 0.5``,
``nest.random.uniform() < 0.2``, ``nest.spatial.pos.x >= 0.``). Comparisons ``<``, ``<=``, ``>``,
``>=`` give 1.0 where they hold and 0.0 elsewhere, as NEST's; ``==`` and ``!=`` of parameters are not
supported (write ``nest.logic.conditional(p < v, ..)`` or ``(p >= v) * (p <= v)``)."""
from ..spatial import conditional

__all__ = ["conditional"]
