"""The built-in layer specs. Importing this package registers them, in the registry's order (the
seed layers first, the optimizers last). The front-ends import it (``properties.frontends``, and
``properties``' public names on first use); the engine never does."""

import importlib

for _module in ("seed", "cnn", "graph", "cs231n", "optim", "recurrent"):
    importlib.import_module(f"layer_crosscheck.properties.specs.{_module}")
importlib.import_module("layer_crosscheck.properties.specs.norm")
importlib.import_module("layer_crosscheck.properties.specs.book2")
importlib.import_module("layer_crosscheck.properties.specs.nets")
