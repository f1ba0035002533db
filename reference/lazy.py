"""The autodiff backends' common base: import the framework the first time it is needed, once.

``import reference`` and ``get_reference(...)`` stay cheap because nothing here imports a
framework; the first ``unavailable()`` or computation does, and its outcome (the spec functions'
namespace, or the reason there is none) is kept for the life of the instance.
"""

from __future__ import annotations

import abc
import contextlib
import importlib
import types
from collections.abc import Iterator
from typing import ClassVar

from layer_crosscheck.reference.base import BackendUnavailable, Reference

__all__ = ["LazyBackend", "import_reason"]


class LazyBackend(Reference):
    """A `Reference` computed with a framework that is imported lazily.

    Subclasses name the ``modules`` to import (the first is the one a person installs) and build
    the namespace that spec functions see from them; they may also scope settings around each
    computation (`computing`).
    """

    modules: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self._loaded: types.SimpleNamespace | str | None = None  # namespace, reason, or not tried

    @abc.abstractmethod
    def build_namespace(self, *modules: types.ModuleType) -> types.SimpleNamespace:
        """The ``ns`` passed to spec functions, from the imported ``modules`` in order.

        Raise `BackendUnavailable` with a reason if the framework imported but cannot be used.
        """

    def unavailable(self) -> str | None:
        """Imports the framework once to find out; the reason says how to install it if missing."""
        if self._loaded is None:
            self._loaded = self._load()
        return self._loaded if isinstance(self._loaded, str) else None

    def namespace(self) -> types.SimpleNamespace:
        """The spec functions' namespace; raises `BackendUnavailable` (with the reason) if none."""
        reason = self.unavailable()
        if reason is not None:
            raise BackendUnavailable(reason)
        assert isinstance(self._loaded, types.SimpleNamespace)
        return self._loaded

    @contextlib.contextmanager
    def computing(self, ns: types.SimpleNamespace) -> Iterator[None]:
        """Settings a computation runs under, all restored afterwards; none by default."""
        yield

    def _load(self) -> types.SimpleNamespace | str:
        try:
            return self.build_namespace(*(importlib.import_module(m) for m in self.modules))
        except BackendUnavailable as exc:
            return str(exc)
        except Exception as exc:  # a broken install must surface as a reason, not a crash later
            return import_reason(self.modules[0], exc)


def import_reason(module: str, exc: BaseException) -> str:
    """Why ``import module`` failed, phrased for a person reading a skip or an error."""
    if isinstance(exc, ModuleNotFoundError) and exc.name == module:  # not e.g. torch.func on torch 1.x
        return f"{module} is not installed (pip install {module})"
    return f"{module} is installed but failed to import: {type(exc).__name__}: {exc}"
