"""Readers and re-implementations of NVlabs network pickles (stylegan2-ada-pytorch, stylegan3)."""
