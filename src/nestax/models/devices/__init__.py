"""Devices (generators, recorders), one module per family. Importing this package registers every model."""
import importlib
import pkgutil

for _m in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_m.name}")
