"""The engine: models, data, training, latent tools and metrics. Never imports Qt."""
