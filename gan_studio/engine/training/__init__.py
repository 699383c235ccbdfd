from . import losses, regularizers  # noqa: F401  (registration)
