"""Model families. Importing this package registers every architecture."""
from . import (  # noqa: F401  (registration side effects)
    autoencoder,  # noqa: F401  (registers "dcgan-ae", the EBGAN/BEGAN critic)
    base,
    dcgan,
    encoded,  # noqa: F401  (registers "dcgan-enc", MRGAN's encoder family)
    lapgan,  # noqa: F401  (registers "lapgan")
    lenet,
    mlp2d,  # noqa: F401  (registers "mlp2d", the 2-D point toy)
    nvlabs,
    progan,  # noqa: F401  (registers "progan")
    srresnet,  # noqa: F401  (registers "srresnet" and "srgan", super-resolution translators)
    stylegan,
    text_gan,  # noqa: F401  (registers "gan-cls", text to image)
    translators,  # noqa: F401  (registers "pix2pix", "cyclegan", "discogan", "dualgan")
    voxel_iwgan,  # noqa: F401  (registers "voxel-iwgan")
    voxnet,  # noqa: F401  (registers "voxnet", the 3D feature network)
)
from .base import ImageGenerator, apply_truncation, build  # noqa: F401
