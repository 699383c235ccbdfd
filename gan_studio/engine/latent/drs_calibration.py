"""Calibrating a critic for discriminator rejection sampling: critic score -> logit of P(real | x).

DRS (Azadi et al. 2019) needs the logit D̃(x) of a discriminator trained with the logistic loss: then
exp(D̃(x)) estimates p_data(x) / p_G(x). A critic trained with the non-saturating loss ("ns") outputs that
logit already. A Wasserstein critic outputs a score on no particular scale, so we fit D̃ = a·score + b by
logistic regression on the critic's scores of real images (label 1) and of the generator's own samples
(label 0), balanced — a two-parameter version of the paper's extra logistic training of D.

Where a fit is kept: a small JSON file per (generator, critic) pair in the user's data folder,

    ~/.local/share/gan-studio/drs/<key>.json      (under $GAN_STUDIO_HOME/drs when that is set)

keyed by a hash of both networks' weights, so it follows the weights (a copied or renamed model file keeps
it, a retrained one does not) and the model file itself is never rewritten. The CLI writes it when given
`--data`; the GUI writes it once after asking for the data folder.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import UserError

LOGIT_LOSSES = ("ns", "vanilla", "unrolled")   # logistic-loss critics: their output already is the logit
CALIBRATION_SEED = 0x0D75CA1    # the stream of generated samples used for fitting (not a user seed)
DEFAULT_CALIBRATION_N = 2000    # real and generated images each: plenty for two parameters
MIN_CALIBRATION_N = 50


@dataclass
class Calibration:
    """score -> logit: D̃(x) = a · critic(x) + b."""
    a: float = 1.0
    b: float = 0.0
    method: str = "identity"      # "identity" (the critic's output is the logit) or "logistic-fit"
    data: str = ""                # the real images of a fit
    split: str = ""
    n: int = 0                    # real images used (and as many generated)
    accuracy: float | None = None  # real-vs-generated accuracy of the fitted logit at 0
    key: str = ""                 # calibration_key of the (generator, critic) pair

    def logits(self, scores: torch.Tensor) -> torch.Tensor:
        return self.a * scores + self.b

    def describe(self) -> str:
        if self.method == "identity":
            return "the critic's output is the logit (non-saturating loss)"
        acc = f", accuracy {self.accuracy:.3f}" if self.accuracy is not None else ""
        return f"logistic fit a={self.a:.4g} b={self.b:+.4g} on {self.n} real images of {self.data}{acc}"

    @classmethod
    def from_json(cls, obj: dict) -> "Calibration":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in obj.items() if k in names})


# ---------------------------------------------------------------- the model's critic

def has_critic(bundle) -> bool:
    return "critic" in getattr(bundle, "networks", {})


class ScalarCritic(nn.Module):
    """A critic giving one score per image: its loss's own score of the raw output (e.g. MD-GAN's embedding
    -> log-likelihood), the output itself for a scalar critic."""

    def __init__(self, net: nn.Module, score=None) -> None:
        super().__init__()
        self.net, self._score = net.eval(), score

    def forward(self, x: torch.Tensor) -> torch.Tensor:    # (N, C, H, W) -> (N,)
        out = self.net(x)
        out = self._score(out) if self._score is not None else out
        if out.numel() != x.shape[0]:
            raise UserError(f"the critic gives {tuple(out.shape[1:])} values per image, not one score; "
                            f"DRS cannot use it")
        return out.reshape(x.shape[0])


def _loss_score(bundle):
    """The training loss's score function (None: the raw output is the score)."""
    loss = (bundle.meta.get("training") or {}).get("loss")
    if not loss:
        return None
    from .. import training  # noqa: F401  (registers the losses)
    from ..registry import LOSSES
    try:
        return getattr(LOSSES.get(loss), "score", None)
    except (KeyError, UserError):
        return None


def critic_of(bundle) -> ScalarCritic:
    """The bundle's critic, one score per image, in eval mode; a UserError when the file has none."""
    if not has_critic(bundle):
        raise UserError(f"{bundle.name} has no critic: DRS needs one (this model file holds only "
                        f"{', '.join(bundle.networks) or 'no networks'})")
    return ScalarCritic(bundle.networks["critic"], _loss_score(bundle)).eval()


def critic_is_logit(bundle) -> bool:
    """True when the critic was trained with a logistic loss, so its raw output is already D̃."""
    loss = (bundle.meta.get("training") or {}).get("loss")
    return loss in LOGIT_LOSSES


@torch.no_grad()
def critic_scores(critic, images: torch.Tensor, batch: int = 250) -> torch.Tensor:
    """images (N, C, H, W) in [-1, 1] -> raw critic outputs (N,) float32 on the CPU."""
    dev = next(iter(critic.parameters()), torch.empty(0)).device
    out = [critic(images[i:i + batch].to(dev)).float().reshape(-1).cpu() for i in range(0, len(images), batch)]
    return torch.cat(out) if out else torch.zeros(0)


# ---------------------------------------------------------------- the logistic fit

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


def _real_images(data_path: str, split: str, n: int, G) -> torch.Tensor:
    """n real images (N, C, H, W) in [-1, 1], a fixed random subset, fitted to the generator's shape."""
    from ..data import load_images
    data = load_images(data_path, split)
    if len(data) < MIN_CALIBRATION_N:
        raise UserError(f"{data_path} has {len(data)} images; DRS calibration needs at least {MIN_CALIBRATION_N}")
    idx = torch.randperm(len(data), generator=torch.Generator("cpu").manual_seed(CALIBRATION_SEED))[:n]
    c, res, _ = G.image_shape
    return data.as_float(resolution=res, channels=c, index=idx)


def calibrate_iter(G, critic, data_path: str, n: int = DEFAULT_CALIBRATION_N, split: str = "train",
                   batch: int = 250) -> Iterator[dict]:
    """Fit the critic's calibration on real images from `data_path` and as many generated ones.

    Yields progress dicts, then {"stage": "done", "result": Calibration}. G and critic on the same device."""
    from .sampling import generate
    if n < MIN_CALIBRATION_N:
        raise UserError(f"the calibration needs at least {MIN_CALIBRATION_N} images, not {n}")
    yield {"stage": "real images", "done": 0, "total": n}
    real_imgs = _real_images(data_path, split, n, G)
    n = len(real_imgs)
    real = critic_scores(critic, real_imgs, batch)
    z = torch.randn(n, G.z_dim, generator=torch.Generator("cpu").manual_seed(CALIBRATION_SEED))  # (n, z_dim)
    fake = []
    for i in range(0, n, batch):
        fake.append(critic_scores(critic, generate(G, z[i:i + batch]), batch))
        yield {"stage": "generated images", "done": min(i + batch, n), "total": n}
    a, b, acc = fit_logistic(real, torch.cat(fake))
    yield {"stage": "done", "result": Calibration(a, b, "logistic-fit", str(data_path), split, n, acc,
                                                  calibration_key(G, critic))}


def calibrate(G, critic, data_path: str, **kw) -> Calibration:
    result = None
    for p in calibrate_iter(G, critic, data_path, **kw):
        result = p.get("result", result)
    return result


# ---------------------------------------------------------------- where fits are kept

def calibration_key(G, critic) -> str:
    from ..bundle import weights_hash
    return hashlib.sha256((weights_hash(G) + weights_hash(critic)).encode()).hexdigest()[:24]


def calibration_dir() -> Path:
    from ..catalog import user_dir
    return user_dir().parent / "drs"


def calibration_path(key: str) -> Path:
    return calibration_dir() / f"{key}.json"


def save_calibration(cal: Calibration, model_name: str = "") -> Path:
    from ..bundle import atomic_write
    if not cal.key:
        raise ValueError("a stored calibration needs its key")
    obj = dict(asdict(cal), model=model_name, created=time.strftime("%Y-%m-%d %H:%M:%S"))
    text = json.dumps(obj, indent=2)

    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
    return atomic_write(calibration_path(cal.key), write)


def load_calibration(key: str) -> Calibration | None:
    """The stored fit for this key, or None (also for an unreadable file: it is simply fitted again)."""
    path = calibration_path(key)
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
        cal = Calibration.from_json(obj)
        if not (isinstance(cal.a, (int, float)) and isinstance(cal.b, (int, float))):
            return None
        return cal
    except (OSError, ValueError, TypeError):
        return None


def stored_or_default(bundle, G, critic) -> Calibration | None:
    """The stored fit; else the identity for a logistic-loss critic; else None (a fit is needed)."""
    cal = load_calibration(calibration_key(G, critic))
    if cal is not None:
        return cal
    return Calibration() if critic_is_logit(bundle) else None


def needs_data_message(bundle) -> str:
    loss = (bundle.meta.get("training") or {}).get("loss") or "an unknown loss"
    return (f"{bundle.name}'s critic was trained with {loss}: its scores are not probabilities, so DRS first "
            f"calibrates them on real images; give --data PATH (e.g. the MNIST folder) once — the fit is "
            f"remembered in {calibration_dir()}")


def resolve_calibration(bundle, G, critic, data_path: str | None = None, n: int = DEFAULT_CALIBRATION_N,
                        split: str = "train") -> Calibration:
    """With data: fit, store and return. Without: the stored fit, or the identity for an NS critic."""
    if data_path:
        cal = calibrate(G, critic, data_path, n=n, split=split)
        save_calibration(cal, bundle.name)
        return cal
    cal = stored_or_default(bundle, G, critic)
    if cal is None:
        raise UserError(needs_data_message(bundle))
    return cal


__all__ = ["Calibration", "calibrate", "calibrate_iter", "calibration_dir", "calibration_key", "critic_is_logit",
           "critic_of", "critic_scores", "fit_logistic", "has_critic", "load_calibration", "resolve_calibration",
           "save_calibration", "stored_or_default"]
