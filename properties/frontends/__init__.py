"""What people use: the ``crosscheck`` command, the pytest plugin, the report and target loading.

The built-in specs are imported here: the engine imports none, and every front-end reads them."""

import layer_crosscheck.properties.specs  # noqa: F401  (they register on import)
