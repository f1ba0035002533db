"""layer-crosscheck's one import package: ``layer_crosscheck.impl``, ``.reference``, ``.properties``.

The repository keeps ``impl/``, ``reference/`` and ``properties/`` at its top level; the wheel
installs them under this package (``package-dir`` in pyproject.toml), so a user's project with its
own ``impl/``, ``reference.py`` or ``properties.py`` is never shadowed and never shadows them.
In a source checkout the three directories stand beside this folder, so they are put on
``__path__`` here.
"""

from pathlib import Path as _Path

_here = _Path(__file__).resolve().parent
if not (_here / "impl").is_dir() and (_here.parent / "impl" / "_base.py").is_file():
    __path__.append(str(_here.parent))
