"""Qt-free job of the sampling panel's rejection-sampling mode, run in a TaskWorker.

One job fills one grid: it finds the critic's calibration (the remembered fit, the identity for an NS critic,
or a new fit on the data folder the user picked: by default the critic is fine-tuned, about a minute, with
progress), the burn-in for this truncation (unless the panel kept one),
then the first N accepted seeds from S. What it learns on the way comes back in the outcome so the panel can
reuse it: the next seed only costs the sampling itself.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from ..imaging import to_uint8
from ..latent.drs import (
    DEFAULT_BURN_IN,
    DEFAULT_PERCENTILE,
    BurnIn,
    DRSResult,
    burn_in_iter,
    drs_iter,
    forward_progress,
    on_device,
)
from ..latent.drs_calibration import Calibration, critic_of, fit_iter, save_calibration, stored_or_default


@dataclass
class DRSJob:
    seq: int
    seed: int
    n: int
    psi: float
    device: object
    bundle: object = field(repr=False)
    nets: dict = field(default_factory=dict, repr=False)   # the panel's cache: device -> (G, critic)
    cal: Calibration | None = None        # a calibration already known for this model
    data: str | None = None               # real images for a new fit (None: ask the user first)
    burn: BurnIn | None = None            # a burn-in already done for this model, calibration and psi
    percentile: float = DEFAULT_PERCENTILE
    burn_in_n: int = DEFAULT_BURN_IN
    method: str | None = None             # a new fit's kind (None: the engine's default, fine-tuning)
    steps: int | None = None              # fine-tuning steps (None: the engine's default)


@dataclass
class DRSOutcome:
    job: DRSJob
    cal: Calibration | None = None
    burn: BurnIn | None = None
    result: DRSResult | None = None
    pixels: np.ndarray | None = None      # (N, H, W, C) uint8 of the accepted images
    needs_data: bool = False              # a Wasserstein critic with no fit yet and no data folder given


def _networks(job: DRSJob):
    """The generator and critic on the job's device (copies made once per device, kept in job.nets)."""
    key = str(job.device or "cpu")
    if key not in job.nets:
        G, critic = job.bundle.generator().eval(), critic_of(job.bundle)
        G, critic = on_device(G, job.device), on_device(critic, job.device)
        job.nets[key] = (G, critic)
    return job.nets[key]


def run_drs_job(job: DRSJob) -> Iterator[dict]:
    """Worker thread: progress dicts; returns a DRSOutcome."""
    G, critic = _networks(job)
    cal = job.cal or stored_or_default(job.bundle, G, critic)
    if cal is None:
        if not job.data:
            return DRSOutcome(job, needs_data=True)
        cal = yield from forward_progress(fit_iter(G, critic, job.data, job.method, steps=job.steps))
        save_calibration(cal, job.bundle.name)
    burn = job.burn
    if burn is None:
        burn = yield from forward_progress(burn_in_iter(G, critic, cal, n=job.burn_in_n,
                                                        percentile=job.percentile, truncation_psi=job.psi))
    result = yield from forward_progress(drs_iter(G, critic, cal, job.seed, job.n, burn=burn,
                                                  truncation_psi=job.psi))
    return DRSOutcome(job, cal, burn, result, to_uint8(result.images))
