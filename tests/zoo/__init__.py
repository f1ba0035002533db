"""The one zoo of layer classes as users write them, shared by the tests, the CLI tests and the benchmarks.

``broken.py``: planted bugs, one class per bug, named after it; each must be rejected.
``correct.py``: right, but written differently from ``impl``; each must be accepted (a rejection
is a false alarm). ``textbook_layers.py``: the book's own code, warnings and all; must pass.
Each file can be given to ``crosscheck check`` as ``tests/zoo/<file>.py:Class`` (or imported as
``tests.zoo.<file>`` from the repository root).
"""
