from .images import ImageDataset, load_images  # noqa: F401
