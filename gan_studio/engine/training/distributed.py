"""Data-parallel training under `torchrun` (gloo on CPU, nccl on GPUs), without touching any recipe.

    torchrun --nproc-per-node 2 $(which gan-studio) train --batch 64 ...

Every rank builds the same recipe from the same seed; rank 0's weights are then broadcast so all ranks
start identical. Each optimiser gets a step pre-hook that averages its gradients over the ranks before
the update — the gradient averaging of PyTorch's DistributedDataParallel, done at the optimiser so it also
holds for gradient penalties (autograd.grad with create_graph), unrolled critics and several networks per
recipe, which a DDP module wrapper does not support. `--batch` is the global batch (split over ranks),
`--steps` counts global steps; only rank 0 writes checkpoints and sample grids.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from ..errors import UserError


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def world_from_env() -> World:
    """The torchrun world (RANK, WORLD_SIZE, LOCAL_RANK), or a world of one."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    return World(int(os.environ.get("RANK", "0")), size, int(os.environ.get("LOCAL_RANK", "0")))


def rank_device(world: World, device: torch.device) -> torch.device:
    """This rank's device: cuda:LOCAL_RANK on GPUs."""
    if world.distributed and device.type == "cuda":
        device = torch.device("cuda", world.local_rank)
        torch.cuda.set_device(device)
    return device


def init(world: World, device: torch.device) -> None:
    """Join the process group (once). Call it after the recipe has built its optimisers: a process that
    creates a torch optimiser after joining a gloo group aborts at exit about half the time here
    ("terminate called without an active exception", torch 2.13)."""
    if world.distributed and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")


def shutdown(world: World, clean: bool = True) -> None:
    """Leave the process group. After a clean run every rank first waits for the others: gloo aborts a
    process ("terminate called without an active exception") that tears down while a peer still talks."""
    if world.distributed and dist.is_initialized():
        if clean:
            dist.barrier()
        dist.destroy_process_group()


def local_batch(batch: int, world: World) -> int:
    """This rank's share of the global batch."""
    if batch % world.size:
        raise UserError(f"--batch {batch} must be divisible by the number of processes ({world.size})")
    return batch // world.size


def _modules_and_optimizers(recipe) -> tuple[list[nn.Module], list[torch.optim.Optimizer]]:
    mods, opts = [], []
    for value in vars(recipe).values():
        if isinstance(value, nn.Module):
            mods.append(value)
        elif isinstance(value, torch.optim.Optimizer):
            opts.append(value)
    return mods, opts


def _average_grads(opt: torch.optim.Optimizer, args, kwargs) -> None:
    grads = [p.grad for g in opt.param_groups for p in g["params"] if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])        # one all-reduce per optimiser step
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


def make_data_parallel(recipe, world: World) -> None:
    """Broadcast rank 0's networks to every rank and average gradients before every optimiser step."""
    if not world.distributed:
        return
    mods, opts = _modules_and_optimizers(recipe)
    with torch.no_grad():
        for m in mods:
            for t in list(m.parameters()) + list(m.buffers()):
                dist.broadcast(t.data, src=0)
    for opt in opts:
        opt.register_step_pre_hook(_average_grads)


def agree(world: World, *flags: bool) -> list[bool]:
    """Each flag true on any rank becomes true on all (so every rank stops at the same step)."""
    if not world.distributed:
        return list(flags)
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else "cpu"
    t = torch.tensor([float(f) for f in flags], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return [bool(v) for v in t.tolist()]
