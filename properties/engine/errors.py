"""The one error a front-end shows as a usage error (``crosscheck`` exits 2, one line, no traceback)."""

import difflib
from collections.abc import Iterable

__all__ = ["EXIT_UNFINISHED", "InterfaceError", "Unfinished", "UsageError", "did_you_mean"]

#: the exit status of a check whose only finding is an unfinished stub (neither 0 nor 1)
EXIT_UNFINISHED = 4


class UsageError(ValueError):
    """The request cannot be carried out as asked; the message is one line."""


class InterfaceError(UsageError):
    """The harness's own call into the class does not fit its signature (``forward(x, mask=...)`` on
    a forward without ``mask``): the class offers another interface, which is not a disagreement."""


class Unfinished(UsageError):
    """The function is still the assignment's stub (it returns None, or its body between the
    template's TODO and END OF YOUR CODE is only ``pass``): not a finding, and not a disagreement."""


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'relu'?"`` for the closest of ``known`` to ``name`` (case aside), else
    ``""``: the tail of a usage error for a misspelt spec or class name."""
    by_lower = {k.lower(): k for k in known}
    close = difflib.get_close_matches(name.lower(), by_lower, n=1, cutoff=0.6)
    return f"; did you mean {by_lower[close[0]]!r}?" if close else ""
