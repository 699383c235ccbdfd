"""Qt-free jobs of the directions panel, run in TaskWorkers: discovery (resumable) and RCA.

A `DiscoveryJob` keeps its `VoynovTrainer` between runs: stopping closes the progress generator after a
finished step, and running the job again continues from that step.
"""
from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch

from ..bundle import weights_hash
from ..device import device_of
from ..latent.directions import DirectionSet, VoynovTrainer, discover
from ..metrics.rca import RCABudget, rca_iter


@dataclass
class DiscoveryJob:
    seq: int
    method: str
    k: int
    steps: int                              # the step limit (preset fast stops earlier, when converged)
    preset: str
    G: object = field(repr=False)          # the open model's generator; the job trains on its own copy
    device: object = None                   # where discovery runs (the app's device)
    model_key: object = None                # which open model this job belongs to
    trainer: VoynovTrainer | None = field(default=None, repr=False)
    ident: str = ""                         # the generator's weights hash, written into the directions

    def key(self) -> tuple:
        return self.method, self.k, self.preset, self.model_key

    def can_resume(self, key: tuple, steps: int) -> bool:
        """Start continues this job: same method, K, preset and model, and steps left to train."""
        return self.method == "voynov" and self.trainer is not None and key == self.key() \
            and self.trainer.step < steps and self.trainer.status != "converged"

    @property
    def step(self) -> int:
        return self.trainer.step if self.trainer is not None else 0

    def result(self) -> DirectionSet | None:
        """The directions found so far (Voynov), None before the first step."""
        if self.trainer is None or self.trainer.step == 0:
            return None
        return self.trainer.result(self.ident)


def run_discovery(job: DiscoveryJob) -> Iterator[dict]:
    """Worker thread: progress dicts, then {"result": DirectionSet}. Closing it stops after a whole step."""
    if not job.ident:                       # first run: a private copy, so renders never share it
        job.G = copy.deepcopy(job.G).to(job.device or "cpu")
        job.ident = weights_hash(job.G)
    if job.method != "voynov":
        yield from discover(job.G, job.method, job.k)
        return
    if job.trainer is None:
        job.trainer = VoynovTrainer(job.G, job.preset, steps=job.steps, k=job.k)
    job.trainer.steps = job.steps
    yield from job.trainer.run()
    yield {"result": job.result()}


def run_rca(G, ds: DirectionSet, budget: RCABudget, device=None) -> Iterator[dict]:
    """Worker thread: rca_iter on a copy of G placed on `device` (G itself when it is already there)."""
    here = device_of(G)
    if device is not None and torch.device(device) != here:
        G = copy.deepcopy(G).to(device)
    yield from rca_iter(G, ds, budget)
