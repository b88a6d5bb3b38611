"""``python -m nestax.engine.native``: build the native kernels now and say whether they are in use."""
from . import status

print(status())
