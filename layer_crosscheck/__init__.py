"""layer-crosscheck's one import package: ``layer_crosscheck.impl``, ``.reference``, ``.properties``.

The repository keeps ``impl/``, ``reference/`` and ``properties/`` at its top level; the wheel
installs them under this package (``package-dir`` in pyproject.toml), so a user's project with its
own ``impl/``, ``reference.py`` or ``properties.py`` is never shadowed and never shadows them.
In a source checkout the three directories stand beside this folder, so they are put on
``__path__`` here.
"""

import sys as _sys
from pathlib import Path as _Path

_here = _Path(__file__).resolve().parent
if not (_here / "impl").is_dir() and (_here.parent / "impl" / "_base.py").is_file():
    __path__.append(str(_here.parent))
    if "mutmut" in _sys.modules:
        # mutmut names a mutant after its file (impl/affine.py: ``impl.affine``) and switches it
        # on by the function's ``__module__``: impl's modules must keep those names here, so
        # ``layer_crosscheck.impl`` is the top-level ``impl`` (docs/ROBUSTNESS.md, section 6).
        import importlib as _importlib
        import pkgutil as _pkgutil

        _impl = _importlib.import_module("impl")
        for _m in _pkgutil.iter_modules(_impl.__path__):
            _sys.modules[f"{__name__}.impl.{_m.name}"] = _importlib.import_module(f"impl.{_m.name}")
        _sys.modules[f"{__name__}.impl"] = impl = _impl
