"""The one error a front-end shows as a usage error (``crosscheck`` exits 2, one line, no traceback)."""

__all__ = ["InterfaceError", "Unfinished", "UsageError"]


class UsageError(ValueError):
    """The request cannot be carried out as asked; the message is one line."""


class InterfaceError(UsageError):
    """The harness's own call into the class does not fit its signature (``forward(x, mask=...)`` on
    a forward without ``mask``): the class offers another interface, which is not a disagreement."""


class Unfinished(UsageError):
    """The function is still the assignment's stub (it returns None, or its body between the
    template's TODO and END OF YOUR CODE is only ``pass``): not a finding, and not a disagreement."""
