"""Importing this package registers every cross-check in `numeric.crosscheck.CROSSCHECKS`.

Adding a module of checks is adding its name to MODULES.  `sheet` (checks of the
answer sheet's own formulas) may not exist yet; only its own absence is tolerated --
an import error inside an existing module still raises.
"""
import importlib

MODULES = ("core", "sheet")
OPTIONAL = frozenset({"sheet"})

for _name in MODULES:
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _e:
        if _name not in OPTIONAL or _e.name != f"{__name__}.{_name}":
            raise
