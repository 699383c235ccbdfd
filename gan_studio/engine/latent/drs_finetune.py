"""The DRS paper's calibration: keep training a copy of the critic with the logistic loss, G fixed.

DRS (Azadi et al. 2019) needs D̃(x) = logit D*(x), D* = p_data / (p_data + p_G) the optimal discriminator for the
generator we sample from, so that exp(D̃) estimates p_data / p_G. A Wasserstein critic is not that, and no affine
map of its score makes it that: on the shipped WGAN-GP model an affine fit made DRS worse (FID 44.9 -> 97.9 at
percentile 95; it kept thick 0s and dropped 1s). So, as the paper does, we train further:

  1. a copy of the critic, its output scaled and shifted by the affine fit (a start that is already a logit);
  2. `steps` Adam steps (lr 2e-4 decaying linearly to 0, betas (0.5, 0.999)) of the non-saturating logistic loss
     softplus(−D̃(real)) + softplus(D̃(G(z))), batch 64 real images (the data's training part) and 64 fresh
     samples of the generator DRS will sample from (the EMA one, when the file has it — the critic was trained
     against the raw generator);
  3. Platt scaling: D̃ = a·D̃_finetuned + b fitted on held-out real images and fresh samples.

The copy's weights go to a safetensors sidecar next to the calibration JSON (drs_calibration.py), never into the
model file. Everything is seeded: the same data and model give the same calibration.
"""
from __future__ import annotations

import copy
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ..data import load_images
from ..device import device_of
from ..errors import UserError
from ..files import atomic_write
from .drs_core import (
    CALIBRATION_SEED,
    DEFAULT_CALIBRATION_N,
    MIN_CALIBRATION_N,
    Calibration,
    calibration_key,
    critic_scores,
    fit_logistic,
)
from .sampling import generate

FINETUNE_SEED = 0x0D75F7      # the real-batch / latent stream of the fine-tuning (not a user seed)
DEFAULT_STEPS = 1000
BATCH = 64
LR = 2e-4
BETAS = (0.5, 0.999)


class FinetunedCritic(nn.Module):
    """logit = scale · critic(x) + shift, over a copy of a ScalarCritic; every weight is trained."""

    def __init__(self, critic: nn.Module, scale: float = 1.0, shift: float = 0.0) -> None:
        super().__init__()
        self.critic = copy.deepcopy(critic)
        self.scale = nn.Parameter(torch.tensor(float(scale)))
        self.shift = nn.Parameter(torch.tensor(float(shift)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:     # (N, C, H, W) -> (N,)
        return self.scale * self.critic(x) + self.shift


def _split(n_data: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Fixed random (held-out, training) indices: min(n, half the data) held out for the Platt fit."""
    perm = torch.randperm(n_data, generator=torch.Generator("cpu").manual_seed(CALIBRATION_SEED))
    k = min(n, n_data // 2)
    return perm[:k], perm[k:]


def _samples(G, n: int, seed: int) -> torch.Tensor:
    z = torch.randn(n, G.z_dim, generator=torch.Generator("cpu").manual_seed(seed))   # (n, z_dim)
    return generate(G, z)


def _train(net: FinetunedCritic, G, data, train_idx: torch.Tensor, steps: int, batch: int,
           lr: float) -> Iterator[dict]:
    c, res, _ = G.image_shape
    dev = device_of(net)
    opt = torch.optim.Adam(net.parameters(), lr=lr, betas=BETAS)
    decay = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1.0 - t / steps)
    g = torch.Generator("cpu").manual_seed(FINETUNE_SEED)
    net.train()
    with torch.enable_grad():
        for step in range(1, steps + 1):
            idx = train_idx[torch.randint(len(train_idx), (batch,), generator=g)]
            real = data.as_float(resolution=res, channels=c, index=idx).to(dev)          # (B, C, H, W)
            fake = generate(G, torch.randn(batch, G.z_dim, generator=g)).to(dev)        # (B, C, H, W)
            loss = F.softplus(-net(real)).mean() + F.softplus(net(fake)).mean()
            if not torch.isfinite(loss):
                raise UserError("fine-tuning the critic diverged (non-finite loss); try --drs-calibration affine")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            decay.step()
            if step % 10 == 0 or step == steps:
                yield {"stage": "fine-tuning the critic", "done": step, "total": steps, "loss": float(loss.detach())}
    net.eval().requires_grad_(False)


def finetune_iter(G, critic, data_path: str, steps: int = DEFAULT_STEPS, n: int | None = None,
                  split: str = "train", batch: int = BATCH, lr: float = LR) -> Iterator[dict]:
    """Fine-tune a copy of `critic` (a ScalarCritic) against G on real images from `data_path`.

    Yields progress dicts, then {"stage": "done", "result": Calibration} (method "finetune", the trained copy in
    its `finetuned`). G and critic on the same device; neither is changed."""
    if steps < 1:
        raise UserError(f"the critic fine-tuning needs at least 1 step, not {steps}")
    n = DEFAULT_CALIBRATION_N if n is None else n
    yield {"stage": "real images", "done": 0, "total": steps}
    data = load_images(data_path, split)
    if len(data) < MIN_CALIBRATION_N:
        raise UserError(f"{data_path} has {len(data)} images; DRS calibration needs at least {MIN_CALIBRATION_N}")
    c, res, _ = G.image_shape
    hold_idx, train_idx = _split(len(data), n)
    k = len(hold_idx)
    real_hold = data.as_float(resolution=res, channels=c, index=hold_idx)              # (k, C, H, W)
    fake_hold = _samples(G, k, CALIBRATION_SEED + 1)
    # the start: the affine fit on training images, so the copy's output already is a logit
    a0, b0, _ = fit_logistic(critic_scores(critic, data.as_float(resolution=res, channels=c, index=train_idx[:k])),
                             critic_scores(critic, _samples(G, k, CALIBRATION_SEED + 2)))
    affine_acc = fit_logistic(critic_scores(critic, real_hold), critic_scores(critic, fake_hold))[2]
    net = FinetunedCritic(critic, a0, b0).to(device_of(critic))
    yield from _train(net, G, data, train_idx, steps, batch, lr)
    a, b, acc = fit_logistic(critic_scores(net, real_hold), critic_scores(net, fake_hold))
    yield {"stage": "done", "result": Calibration(a, b, "finetune", str(data_path), split, k, acc,
                                                  calibration_key(G, critic), steps=steps,
                                                  affine_accuracy=affine_acc, finetuned=net)}


# ---------------------------------------------------------------- the sidecar

def save_finetuned(path, net: FinetunedCritic, key: str):
    from safetensors.torch import save_file
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in net.state_dict().items()}
    meta = {"gan_studio": "DRS fine-tuned critic", "key": key}
    return atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=meta))


def load_finetuned(path, critic) -> FinetunedCritic | None:
    """The stored copy over this critic's architecture, on the critic's device; None if missing or not fitting."""
    from safetensors.torch import load_file
    try:
        state = load_file(str(path))
        net = FinetunedCritic(critic)
        net.load_state_dict(state, strict=True)
    except Exception:                       # missing, unreadable or another architecture: fit again
        return None
    return net.to(device_of(critic)).eval().requires_grad_(False)
