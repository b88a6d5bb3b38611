"""Kept for imports of ``nestax.result``: the Result lives in :mod:`nestax.recording.result`."""
from .recording.result import Connections, Result  # noqa: F401
