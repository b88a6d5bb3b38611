"""What the user built: node blocks, connection records, connect-time checks (see :mod:`.store`)."""
from .records import Block, ConnRecord
from .store import Network

__all__ = ["Block", "ConnRecord", "Network"]
