"""The built-in layer specs. Importing this package registers them, in this order (the registry's
order); the registry imports it the first time it is read, so ``import properties`` stays cheap."""

from properties.specs import seed  # noqa: F401  (the seed layers first: registry order)

# isort: split
from properties.specs import cnn  # noqa: F401

# isort: split
from properties.specs import graph  # noqa: F401

# isort: split
from properties.specs import optim  # noqa: F401  (the optimizers, after the layers)
