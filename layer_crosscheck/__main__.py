"""``python -m layer_crosscheck``: the ``crosscheck`` command without the console script."""

import sys

from layer_crosscheck.properties.frontends.cli import main

if __name__ == "__main__":  # not when a spawned worker imports it as __mp_main__
    sys.exit(main())
