"""Conditional GAN (`--conditional`) and InfoGAN (`--info`) training, for `GANRecipe` and any loss of the zoo.

Conditional: the classes are the dataset's labels (0 … K-1, K = largest label + 1; MNIST: 10). Real batches come
with their labels; the critic's fakes are generated for the *same* labels (so a gradient penalty's interpolates
have one class), the generator's fakes for the class read off their z (uniform, codes.py). The critic is the
projection discriminator of models/dcgan.py, called as D(x, y) everywhere (loss, regulariser, unrolled steps).

InfoGAN (Chen et al. 2016): L_I = CE(Q_cat(G(z)), cat) + ½ Σ_j (Q_cont,j(G(z)) − cont_j)² — the negative log
likelihood of the categorical code and of the continuous codes under a Gaussian with unit variance, as in the
authors' code (constants dropped); codes from z (codes.py). λ·L_I is added to the critic's loss on its fakes
(training the shared body and Q head) and to the generator's loss (training G): min over G and Q of −λ·I, with
whatever adversarial loss the run uses. λ = 1 for both kinds of code, the paper's setting. Weight clipping
(--loss wgan) leaves the Q head alone; unrolled critic steps simulate the adversarial part only.

--options: info_cat (10), info_cont (2), info_lambda (1.0), only with --info.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F

from ..device import device_of
from ..errors import DataError, UserError
from ..models.codes import CAT, CLASS, CodeLayout
from .batches import batch_indices

INFO_OPTIONS = {"info_cat": 10, "info_cont": 2, "info_lambda": 1.0}
ARCH_KEYS = ("num_classes", "info_cat", "info_cont")


def num_classes(labels: torch.Tensor | None, data_name: str) -> int:
    """K from the dataset's labels; a clear error when there are none (or too few)."""
    if labels is None:
        raise DataError(f"--conditional needs class labels, and {data_name or 'this dataset'} has none "
                        f"(use an MNIST folder with its labels file, or a .npz with a 'labels' array)")
    if labels.numel() == 0 or int(labels.min()) < 0:
        raise DataError("--conditional needs labels 0, 1, … K-1 (these include negative values)")
    k = int(labels.max()) + 1
    if k < 2:
        raise DataError("--conditional needs at least 2 classes; every label here is 0")
    return k


def arch_entries(cfg, data, opts: dict) -> dict:
    """The architecture-config entries that --conditional / --info set (the model file records them)."""
    given = sorted(set(ARCH_KEYS) & set(cfg.arch_config))
    if given:
        raise UserError(f"--arch-config {', '.join(given)}: set these with --conditional and --info "
                        f"(--options info_cat / info_cont)")
    stray = sorted(k for k in INFO_OPTIONS if k in cfg.options and not cfg.info)
    if stray:
        raise UserError(f"--options {', '.join(stray)}: only used with --info")
    out = {}
    if cfg.conditional:
        out["num_classes"] = num_classes(getattr(data, "labels", None), getattr(data, "name", ""))
    if cfg.info:
        cat, cont = opts["info_cat"], opts["info_cont"]
        if not (isinstance(cat, int) and isinstance(cont, int)) or cat < 0 or cont < 0 or cat == 1 \
                or cat + cont == 0:
            raise UserError(f"--info needs info_cat 0 or >= 2 and info_cont >= 0, not both 0 "
                            f"(got info_cat {cat!r}, info_cont {cont!r})")
        out |= {"info_cat": cat, "info_cont": cont}
    return out


def info_lambda(cfg, opts: dict) -> float:
    lam = float(opts["info_lambda"]) if cfg.info else 0.0
    if lam < 0:
        raise UserError(f"info_lambda must be 0 or more, not {lam}")
    return lam


def labelled_batches(images: torch.Tensor, labels: torch.Tensor, batch: int,
                     gen: torch.Generator) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless (images (B, C, H, W), labels (B,)) batches, in the order `loop.batches` draws images."""
    return ((images[idx], labels[idx]) for idx in batch_indices(images.shape[0], batch, gen))


def split(batch) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A batch -> (images, labels or None)."""
    return batch if isinstance(batch, tuple) else (batch, None)


def bind(critic, y: torch.Tensor | None):
    """The critic as a function of x alone (D(x, y) with the labels fixed)."""
    return critic if y is None else (lambda x: critic(x, y))


def fake_classes(layout: CodeLayout, z: torch.Tensor) -> torch.Tensor | None:
    """The class each z is generated with (None for an unconditional generator)."""
    return layout.codes_from_z(z)[CLASS] if layout.conditional else None


def info_loss(layout: CodeLayout, q: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """L_I for Q's outputs q (N, info_cat + info_cont) on G(z): CE of the category + ½ squared error of the means."""
    codes = layout.codes_from_z(z)
    loss = q.new_zeros(())
    if layout.info_cat:
        loss = loss + F.cross_entropy(q[:, :layout.info_cat], codes[CAT])
    if layout.info_cont:
        loss = loss + 0.5 * (q[:, layout.info_cat:] - codes["cont"]).pow(2).sum(1).mean()
    return loss


@torch.no_grad()
def q_accuracy(G, D, n: int = 500, seed: int = 0) -> float:
    """How often Q's most likely category is the categorical code G was given (chance: 1 / info_cat)."""
    layout = G.code_layout
    z = torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(seed))
    dev = device_of(G)
    q = D.q(G(z.to(dev)))
    return float((q[:, :layout.info_cat].argmax(1).cpu() == layout.codes_from_z(z)[CAT]).float().mean())
