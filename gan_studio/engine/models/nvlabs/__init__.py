"""NVlabs StyleGAN2-ADA / StyleGAN3 network pickles, read without running them. Importing registers the
"stylegan2-ada" and "stylegan3" architectures."""
from . import family  # noqa: F401  (registration side effects)
