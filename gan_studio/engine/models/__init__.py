"""Model families. Importing this package registers every architecture."""
from . import base, dcgan, lenet, stylegan  # noqa: F401  (registration side effects)
from . import voxel_iwgan  # noqa: F401  (registers "voxel-iwgan")
from .base import ImageGenerator, build, apply_truncation  # noqa: F401
