"""Direction discovery: Voynov & Babenko (trained), GANSpace, SeFa, random and coordinate baselines."""
from __future__ import annotations

import numbers
import time
from collections.abc import Iterator

from ...bundle import weights_hash
from ...errors import UserError
from .closed_form import baseline, ganspace, sefa
from .core import DirectionSet, apply_shifts, latent_dim, latent_space, load_directions, save_directions  # noqa: F401
from .voynov import PRESETS, VoynovTrainer  # noqa: F401

METHODS = ("voynov", "ganspace", "sefa", "random", "coordinate")


def discover(G, method: str, k: int, steps: int | None = None, seed: int = 0, preset: str = "fast",
             space: str | None = None, **overrides) -> Iterator[dict]:
    """Yields progress dicts; the last one holds {"result": DirectionSet}. Closed-form methods yield once."""
    if method not in METHODS:
        raise UserError(f"unknown method {method!r} (choose from {', '.join(METHODS)})")
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise UserError(f"K, the number of directions, must be a whole number of at least 1, not {k!r}")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1):
        raise UserError(f"steps must be a whole number of at least 1, not {steps!r}")
    dim = latent_dim(G, latent_space(G))
    if method != "voynov" and k > dim:                                  # voynov's deformator says it for its space
        raise UserError(f"K = {k} directions do not fit in a {dim}-d latent space")
    ident = weights_hash(G)
    t = time.perf_counter()
    if method == "voynov":
        trainer = VoynovTrainer(G, preset, steps=steps, seed=seed, k=k, space=space, **overrides)
        yield from trainer.run()
        ds = trainer.result(ident)
    elif space is not None and space != latent_space(G):
        raise UserError(f"{method} finds directions in {latent_space(G)} for this model; --space is for voynov")
    elif method == "ganspace":
        ds = ganspace(G, k, seed=seed)
    elif method == "sefa":
        ds = sefa(G, k)
    else:
        ds = baseline(G, k, method, seed)
    ds.generator_hash = ident
    ds.extra.setdefault("seconds", round(time.perf_counter() - t, 1))
    yield {"result": ds}
