"""GAN Studio: explore what generative adversarial networks have learned."""
__version__ = "0.1.0"
