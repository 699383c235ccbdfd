from . import (  # noqa: F401  (registration)
    losses,
    recipe3d,  # noqa: F401  (registers the "voxel-model" recipe)
    recipe_ae,  # noqa: F401  (--arch dcgan-ae with --loss began / ebgan)
    recipe_lapgan,  # noqa: F401  (--arch lapgan)
    recipe_mrgan,  # noqa: F401  (--arch dcgan-enc --loss mrgan)
    recipe_points,  # noqa: F401  (registers the "points" recipe: 2-D toy GANs)
    recipe_progan,  # noqa: F401  (--arch progan)
    recipe_style,
    recipe_text,  # noqa: F401  (--arch gan-cls with --loss gan-cls / gan-int-cls)
    regularizers,
)
