"""Layer classes as users write them, for the ``crosscheck check`` tests.

``broken.py``: real bugs from the book and from learners' code; each must be rejected (exit 1).
``correct.py``: right, but written differently from ``impl``; each must be accepted (exit 0).
Both mix book-1 style (``dW``/``db`` attributes) and book-2 style (``params``/``grads`` lists).
Each file is self-contained (NumPy only), like a user's file given as ``path/to/file.py:Class``.
"""
