"""The one error a front-end shows as a usage error (``crosscheck`` exits 2, one line, no traceback)."""

__all__ = ["UsageError"]


class UsageError(ValueError):
    """The request cannot be carried out as asked; the message is one line."""
