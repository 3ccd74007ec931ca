"""The catalog of proven derivations: every module in MODULES registers its entries
with `@derivation` when imported.  Adding an entry is adding a builder to one of them
(or a module name here)."""
from __future__ import annotations

import importlib
from typing import Callable

from symbolic.derivation import CATALOG, Derivation

MODULES = ("core", "sheet")
# Written in parallel by another engineer; until it exists the catalog is just `core`.
OPTIONAL = frozenset({"sheet"})


def _import(name: str) -> None:
    full = f"{__name__}.{name}"
    try:
        importlib.import_module(full)
    except ModuleNotFoundError as e:
        if name not in OPTIONAL or e.name != full:  # a missing dependency inside it is a real error
            raise


def load() -> dict[str, Callable[[], Derivation]]:
    """All registered builders by id (import order: MODULES)."""
    for name in MODULES:
        _import(name)
    return dict(CATALOG)
