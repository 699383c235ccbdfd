from . import losses, recipe_style, regularizers  # noqa: F401  (registration)
from . import recipe3d  # noqa: F401  (registers the "voxel-model" recipe)
from . import recipe_points  # noqa: F401  (registers the "points" recipe: 2-D toy GANs)
