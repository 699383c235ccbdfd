"""Calibrating a critic for discriminator rejection sampling: critic score -> logit of P(real | x).

DRS (Azadi et al. 2019) needs the logit D̃(x) of a discriminator trained with the logistic loss: then
exp(D̃(x)) estimates p_data(x) / p_G(x). A critic trained with the non-saturating loss ("ns") outputs that
logit already ("identity"). Otherwise two calibrations:

  finetune (the default, drs_finetune.py): the paper's own — a copy of the critic trained on with the logistic
      loss against the generator (1,000 steps, about a minute on one CPU thread), then Platt-scaled on held-out
      images. On the shipped WGAN-GP model it is what makes DRS help.
  affine ("logistic-fit"): D̃ = a·score + b by logistic regression on the critic's scores of real images
      (label 1) and generated ones (label 0). Seconds, but no affine map makes a Wasserstein critic a
      density-ratio estimator: on the shipped model it made DRS worse (FID 44.9 -> 97.9 at percentile 95).

Where a fit is kept: small files per (generator, critic) pair in the user's data folder (paths.py; on Linux
~/.local/share/gan-studio, $GAN_STUDIO_HOME when that is set),

    drs/<key>.json                       affine
    drs/<key>.finetune.json              fine-tuned: Platt a, b and figures,
    drs/<key>.finetune.safetensors       and the fine-tuned critic's weights

keyed by a hash of both networks' weights, so it follows the weights (a copied or renamed model file keeps
it, a retrained one does not) and the model file itself is never rewritten. The CLI writes it when given
`--data`; the GUI writes it once after asking for the data folder. Without a method asked for, the
fine-tuned fit is used when there is one, else the affine one.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import torch
from torch import nn

from .. import training  # noqa: F401  (registers the losses, whose score functions a critic's output goes through)
from ..data import load_images
from ..errors import UserError
from ..files import atomic_write
from ..paths import user_data_dir
from ..registry import LOSSES
from .drs_core import (
    AFFINE,
    CALIBRATION_SEED,
    DEFAULT_CALIBRATION_N,
    FINETUNE,
    IDENTITY,
    MIN_CALIBRATION_N,
    Calibration,
    calibration_key,
    critic_scores,
    fit_logistic,
)
from .drs_finetune import DEFAULT_STEPS, finetune_iter, load_finetuned, save_finetuned
from .sampling import generate

LOGIT_LOSSES = ("ns", "vanilla", "unrolled")   # logistic-loss critics: their output already is the logit
METHOD_NAMES = {"affine": AFFINE, "finetune": FINETUNE}                 # as the CLI spells them
DEFAULT_METHOD = FINETUNE


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


# ---------------------------------------------------------------- the affine fit

def _real_images(data_path: str, split: str, n: int, G) -> torch.Tensor:
    """n real images (N, C, H, W) in [-1, 1], a fixed random subset, fitted to the generator's shape."""
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


def method_of(name: str | None) -> str | None:
    """CLI spelling ("affine", "finetune") or an internal name -> Calibration.method; None stays None."""
    if name is None:
        return None
    m = METHOD_NAMES.get(name, name)
    if m not in (AFFINE, FINETUNE):
        raise UserError(f"unknown DRS calibration {name!r} (known: {', '.join(METHOD_NAMES)})")
    return m


def fit_iter(G, critic, data_path: str, method: str | None = None, n: int = DEFAULT_CALIBRATION_N,
             split: str = "train", steps: int | None = None) -> Iterator[dict]:
    """Fit a calibration of `method` (default: fine-tune). Progress dicts, then {"stage": "done", "result"}."""
    if (method_of(method) or DEFAULT_METHOD) == AFFINE:
        return calibrate_iter(G, critic, data_path, n=n, split=split)
    return finetune_iter(G, critic, data_path, steps=DEFAULT_STEPS if steps is None else steps, n=n, split=split)


# ---------------------------------------------------------------- where fits are kept

def calibration_dir() -> Path:
    return user_data_dir() / "drs"


def calibration_path(key: str, method: str = AFFINE) -> Path:
    return calibration_dir() / (f"{key}.json" if method != FINETUNE else f"{key}.finetune.json")


def finetuned_path(key: str) -> Path:
    return calibration_dir() / f"{key}.finetune.safetensors"


def save_calibration(cal: Calibration, model_name: str = "") -> Path:
    """Write the fit (and, for FINETUNE, first the fine-tuned critic's sidecar): its JSON path."""
    if not cal.key:
        raise ValueError("a stored calibration needs its key")
    if cal.method == FINETUNE:
        if cal.finetuned is None:
            raise ValueError("a fine-tuned calibration needs its fine-tuned critic")
        save_finetuned(finetuned_path(cal.key), cal.finetuned, cal.key)
    obj = {f.name: getattr(cal, f.name) for f in fields(cal) if f.name != "finetuned"}   # (asdict would copy it)
    obj.update(model=model_name, created=time.strftime("%Y-%m-%d %H:%M:%S"))
    text = json.dumps(obj, indent=2)

    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
    return atomic_write(calibration_path(cal.key, cal.method), write)


def load_calibration(key: str, method: str = AFFINE, critic=None) -> Calibration | None:
    """The stored fit of `method` for this key, or None (also for an unreadable file or sidecar: it is simply
    fitted again). FINETUNE needs the critic, whose architecture the stored weights are loaded into."""
    try:
        obj = json.loads(calibration_path(key, method).read_text(encoding="utf-8"))
        cal = Calibration.from_json(obj)
        if not (isinstance(cal.a, (int, float)) and isinstance(cal.b, (int, float))):
            return None
    except (OSError, ValueError, TypeError):
        return None
    if (cal.method == FINETUNE) != (method == FINETUNE):
        return None
    if method == FINETUNE:
        if critic is None:
            raise ValueError("loading a fine-tuned calibration needs the critic")
        cal.finetuned = load_finetuned(finetuned_path(key), critic)
        if cal.finetuned is None:
            return None
    return cal


def stored_or_default(bundle, G, critic, method: str | None = None) -> Calibration | None:
    """The stored fit of `method`, or with none asked for the fine-tuned one, else the affine one, else the
    identity for a logistic-loss critic; None when a fit is needed."""
    method = method_of(method)
    key = calibration_key(G, critic)
    for m in [method] if method else [FINETUNE, AFFINE]:
        cal = load_calibration(key, m, critic)
        if cal is not None:
            return cal
    return Calibration() if critic_is_logit(bundle) and method is None else None


def needs_data_message(bundle, method: str | None = None) -> str:
    loss = (bundle.meta.get("training") or {}).get("loss") or "an unknown loss"
    how = ("fine-tunes a copy of the critic with the logistic loss (about a minute)"
           if (method_of(method) or DEFAULT_METHOD) == FINETUNE else "fits an affine map of its scores")
    if critic_is_logit(bundle):              # only asked for explicitly: an NS critic needs no fit
        start = f"for this calibration, DRS {how}"
    else:
        start = (f"{bundle.name}'s critic was trained with {loss}: its scores are not probabilities, so DRS "
                 f"first {how}")
    return f"{start} on real images; give --data PATH (e.g. the MNIST folder) once — the fit is remembered in " \
           f"{calibration_dir()}"


def resolve_calibration(bundle, G, critic, data_path: str | None = None, n: int = DEFAULT_CALIBRATION_N,
                        split: str = "train", method: str | None = None, steps: int | None = None,
                        progress=None) -> Calibration:
    """With data: fit (`method`, default fine-tune), store and return. Without: the stored fit (see
    stored_or_default). `progress`, if given, is called with each progress dict of a fit."""
    if data_path:
        cal = None
        for p in fit_iter(G, critic, data_path, method, n=n, split=split, steps=steps):
            cal = p.get("result", cal)
            if progress is not None and "result" not in p:
                progress(p)
        save_calibration(cal, bundle.name)
        return cal
    cal = stored_or_default(bundle, G, critic, method)
    if cal is None:
        raise UserError(needs_data_message(bundle, method))
    return cal


__all__ = ["AFFINE", "Calibration", "DEFAULT_METHOD", "FINETUNE", "IDENTITY", "calibrate", "calibrate_iter",
           "calibration_dir", "calibration_key", "critic_is_logit", "critic_of", "critic_scores", "fit_iter",
           "fit_logistic", "has_critic", "load_calibration", "method_of", "resolve_calibration", "save_calibration",
           "stored_or_default"]
