"""Small assertions shared by the test modules."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest


@contextmanager
def raises_naming(exc: type[BaseException], where: str, *fields: Any) -> Iterator[pytest.ExceptionInfo[Any]]:
    """Expect ``exc`` with a message that starts with ``where:`` (``"Affine.forward"``) and names
    every field: a shape, a value or a phrase, each as ``str`` writes it.

    The prefix and the named fields are the contract (docs/ARCHITECTURE.md); the words around them
    may be reworded without breaking a test.
    """
    with pytest.raises(exc) as info:
        yield info
    message = str(info.value)
    assert message.startswith(f"{where}:"), f"the message must start with {where}: {message!r}"
    for field in fields:
        assert str(field) in message, f"the message must name {field!s}: {message!r}"
