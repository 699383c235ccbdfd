"""Model families. Importing this package registers every architecture."""
from . import base, dcgan, lenet  # noqa: F401  (registration side effects)
from .base import ImageGenerator, build, apply_truncation  # noqa: F401
