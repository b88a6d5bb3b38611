"""Recorder streams -> :class:`Result` (see :mod:`.collector`)."""
from .collector import Collector
from .result import Connections, Result

__all__ = ["Collector", "Connections", "Result"]
