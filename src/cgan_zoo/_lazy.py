"""Lazy package attributes (PEP 562), so that ``import cgan_zoo`` and the CLI start fast.

A package lists ``name -> submodule`` and gets a module ``__getattr__`` that imports the
submodule (and with it torch) on first access to the name.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(
    package: str, attributes: Mapping[str, str], eager: list[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Build ``__getattr__`` and ``__dir__`` for a package with lazily imported names.

    Args:
        package: The package's ``__name__``.
        attributes: Public name -> relative submodule that defines it (``".hub"``).
        eager: Names already defined in the package (for ``dir()``).

    Returns:
        ``(__getattr__, __dir__)`` to assign in the package's ``__init__``.

    Example:
        >>> getattr_, dir_ = lazy_attributes("cgan_zoo", {"HubModel": ".hub"}, [])
        >>> getattr_("HubModel").__name__, "HubModel" in dir_()
        ('HubModel', True)
    """
    module = importlib.import_module(package)

    def __getattr__(name: str) -> Any:
        target = attributes.get(name)
        if target is None:
            try:  # a submodule that has not been imported yet, e.g. cgan_zoo.metrics
                return importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(target, package), name)
        setattr(module, name, value)  # later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(eager) | set(attributes))

    return __getattr__, __dir__
