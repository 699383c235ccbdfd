"""What both DRS calibrations share (drs_calibration.py's affine fit, drs_finetune.py's fine-tuned critic): the
Calibration record, the critic's scores, the logistic fit and the key of a (generator, critic) pair."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields

import torch
import torch.nn.functional as F
from torch import nn

from ..bundle import weights_hash
from ..device import device_of
from ..errors import UserError

CALIBRATION_SEED = 0x0D75CA1    # the stream of generated samples used for fitting (not a user seed)
DEFAULT_CALIBRATION_N = 2000    # real and generated images each: plenty for two parameters
MIN_CALIBRATION_N = 50
AFFINE, FINETUNE, IDENTITY = "logistic-fit", "finetune", "identity"     # Calibration.method


@dataclass
class Calibration:
    """score -> logit: D̃(x) = a · scorer(x) + b, scorer = the fine-tuned copy (method "finetune") or the critic."""
    a: float = 1.0
    b: float = 0.0
    method: str = IDENTITY        # IDENTITY (the critic's output is the logit), AFFINE or FINETUNE
    data: str = ""                # the real images of a fit
    split: str = ""
    n: int = 0                    # real images the a, b fit used (and as many generated)
    accuracy: float | None = None  # real-vs-generated accuracy of the fitted logit at 0 (held out for FINETUNE)
    key: str = ""                 # calibration_key of the (generator, critic) pair
    steps: int = 0                # FINETUNE: the critic's training steps
    affine_accuracy: float | None = None   # FINETUNE: the best affine map of the raw critic, same held-out images
    finetuned: nn.Module | None = field(default=None, repr=False, compare=False)   # FINETUNE: the trained copy

    def logits(self, scores: torch.Tensor) -> torch.Tensor:
        return self.a * scores + self.b

    def scorer(self, critic: nn.Module) -> nn.Module:
        """What to score images with: the fine-tuned copy (moved to the critic's device), else the critic."""
        if self.method != FINETUNE:
            return critic
        if self.finetuned is None:
            raise ValueError("a fine-tuned calibration without its fine-tuned critic")
        dev = device_of(critic)
        return self.finetuned.to(dev)

    def describe(self) -> str:
        if self.method == IDENTITY:
            return "the critic's output is the logit (non-saturating loss)"
        acc = f", accuracy {self.accuracy:.3f}" if self.accuracy is not None else ""
        if self.method == FINETUNE:
            was = f" (best affine map of the raw critic: {self.affine_accuracy:.3f})" \
                if self.affine_accuracy is not None else ""
            return (f"critic fine-tuned for {self.steps} steps with the logistic loss on {self.data}, Platt "
                    f"a={self.a:.4g} b={self.b:+.4g}; held-out real-vs-generated accuracy {self.accuracy:.3f}{was}")
        return f"affine logistic fit a={self.a:.4g} b={self.b:+.4g} on {self.n} real images of {self.data}{acc}"

    def short(self) -> str:
        """A few words for a status line."""
        return {IDENTITY: "NS critic", FINETUNE: f"critic fine-tuned on {self.data}"}.get(
            self.method, f"affine fit on {self.data}")

    @classmethod
    def from_json(cls, obj: dict) -> Calibration:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in obj.items() if k in names})


@torch.no_grad()
def critic_scores(critic, images: torch.Tensor, batch: int = 250) -> torch.Tensor:
    """images (N, C, H, W) in [-1, 1] -> raw critic outputs (N,) float32 on the CPU."""
    dev = device_of(critic)
    out = [critic(images[i:i + batch].to(dev)).float().reshape(-1).cpu() for i in range(0, len(images), batch)]
    return torch.cat(out) if out else torch.zeros(0)


def fit_logistic(real: torch.Tensor, fake: torch.Tensor, max_iter: int = 200) -> tuple[float, float, float]:
    """Logistic regression of label (real 1, fake 0) on score: returns (a, b, accuracy).

    real (Nr,), fake (Nf,) scores. LBFGS in float64 on standardised scores; a tiny ridge keeps a finite
    answer when the two sets are separable."""
    s = torch.cat([real, fake]).double()                                          # (Nr + Nf,)
    y = torch.cat([torch.ones(len(real)), torch.zeros(len(fake))]).double()
    if len(real) == 0 or len(fake) == 0:
        raise UserError("calibration needs both real and generated scores")
    mu, sd = s.mean(), s.std().clamp_min(1e-12)
    u = (s - mu) / sd
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)                 # slope, intercept
    opt = torch.optim.LBFGS([w], lr=1.0, max_iter=max_iter, tolerance_grad=1e-10, tolerance_change=1e-14,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(w[0] * u + w[1], y) + 1e-6 * w[0] ** 2
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    w0, w1 = w.detach().tolist()
    slope, icpt = w0 / float(sd), w1 - w0 * float(mu) / float(sd)
    acc = float(((slope * s + icpt > 0).double() == y).double().mean())
    return slope, icpt, acc


def calibration_key(G, critic) -> str:
    """A hash of both networks' weights: a stored fit follows the weights, not the file."""
    return hashlib.sha256((weights_hash(G) + weights_hash(critic)).encode()).hexdigest()[:24]
