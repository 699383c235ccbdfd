"""Model families. Importing this package registers every architecture."""
from . import base, dcgan, lenet, stylegan  # noqa: F401  (registration side effects)
from . import voxel_iwgan  # noqa: F401  (registers "voxel-iwgan")
from . import mlp2d  # noqa: F401  (registers "mlp2d", the 2-D point toy)
from .base import ImageGenerator, build, apply_truncation  # noqa: F401
