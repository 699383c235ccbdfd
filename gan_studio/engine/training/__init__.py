from . import losses, recipe_style, regularizers  # noqa: F401  (registration)
from . import recipe3d  # noqa: F401  (registers the "voxel-model" recipe)
