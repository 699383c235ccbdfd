"""Plug-and-play sampling with a classifier (Nguyen et al. 2017, "Plug & Play Generative Networks"): move latents
until a classifier calls their images a chosen class, while staying likely under the generator's prior.

One step of the chain, on u (N, dim), the latent in prior-whitened coordinates:

    m <- MOMENTUM * m + (1 − p) sqrt(dim) g / |g|,   g = grad_u log p(class | G(u)), p = p(class | G(u))
    u <- u + class_step * m  +  prior * grad_u log N(u; 0, I)  +  noise * N(0, I)
       = u + class_step * m  -  prior * u                      +  noise * N(0, I)

In z, u is z itself (z ~ N(0, I) exactly). In w (a style generator), u = (w − w_avg) / σ_w with σ_w the per-
dimension spread of w over 2,000 seeds (`w_prior`): a Gaussian fit of p(w) around w_avg, so the same step sizes
serve both spaces. The prior term is PPGN's ε₁ term (there from a learned denoiser, here the exact Gaussian prior
of z), the class term its ε₂ term, the noise its ε₃ term. With prior = noise² / 2 the prior part alone
would be a Langevin chain that leaves N(0, I) where it is; the default prior is stronger (a mild pull towards the
mode, like truncation) because the class term pushes latents outwards: measured |z| stays near 9 (typical: 8).

Why the class gradient is normalised (per sample) and given momentum: measured on mnist-wgan-gp (100 seeds,
classes 3 and 7, the shipped LeNet), plain steps ε·g stall at 70 % agreement whatever ε (0.1: 70 % after 60 steps;
0.5 and 2: 70 % with |z| blown up to 12-26 from its typical 8): |g| spans 1e-7 (done) to 10 (far), so one ε is too
small for some samples and too large for others. A fixed step length in g's direction, with momentum 0.8 across
the ridges, reaches 90 % in 50 steps and 92 % in 75 with |z| staying near 9. But a step of fixed length goes on
pushing once the classifier is sure, into images that fool it (FID within the class 398 against rejection
sampling's 81): the factor (1 − p) tapers the push as p(class) nears 1 — as the raw gradient of log p does — and
leaves the prior and the noise to bring the sample back among typical ones (FID 76-99 on classes 3 and 7, 97 %
agreement after 60 steps). Still, an independently trained LeNet agreed less (88 % on class 3): the chain found
what fools this one network. So the classifier sees each step's image shifted by a random offset of up to JITTER
px (its training augmentation; "jitter" in feature visualisation): only what makes a digit a k wherever it sits
keeps paying, and on classes 3 and 7 the second LeNet's agreement went 88/95 % -> 95/96 %, FID 99/76 -> 56/57
(guiding LeNet 93 %). The probabilities a step reports are of its jittered image; the last one's of the image
itself. bench/ppgn.py has the agreement, FID and cost on both shipped MNIST generators.

Chain i of a batch draws its jitter and noise from its own generator, seeded `seed + i`: `sample --seed S --n N`
gives seed S+i's chain the same image whatever N, and the app's chain from seed S (noise seed S) the same again.

`guide_chain` yields a `GuideStep` every `every` steps (the chain so far: latents, images, class probabilities)
and a last one with done=True; closing the generator stops the chain (the app's Stop, a newer request).
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import UserError
from .perceptual import fit_lenet, lenet_network

SPACES = ("z", "w")
GUIDE_STEPS = 140         # chain length. bench/ppgn.py, mnist-wgan-gp: at 60 steps 93.0 % agreement (an independent
                          # LeNet: 87.4 %, FID within the class 101), at 140 steps 96.2 % (91.6 %, FID 83)
CLASS_STEP = 0.03         # ε on the normalised class gradient (a step of 0.03 sqrt(dim): 0.24 in a 64-d z)
MOMENTUM = 0.8            # of the class term
PRIOR = 0.01              # ε on grad log N(u; 0, I) = -u
NOISE = 0.05              # std of the Gaussian noise added each step
JITTER = 2                # px: the classifier sees the image shifted at random each step
PRIOR_SEEDS = 2000        # seeds whose w fit the Gaussian prior in w


def default_space(G) -> str:
    """w for a style generator (bench/ppgn.py: 95 % agreement and FID 178 in w, 91 % and 214 in z), else z."""
    return "w" if getattr(G, "num_ws", 1) > 1 else "z"


def mnist_like(G) -> bool:
    """The shipped LeNet judges one-channel images of at most 64 px (MNIST-like models)."""
    c, h, w = G.image_shape
    return c == 1 and max(h, w) <= 64


def load_classifier(G, path: str | None = None):
    """The classifier that guides (frozen, eval mode): a user's `train-classifier` file, else the shipped
    lenet-mnist for an MNIST-like model. UserError for a model no classifier we have fits, or a file that holds
    no classifier."""
    if path is None and not mnist_like(G):
        c, h, w = G.image_shape
        raise UserError(f"no classifier for this model's {c}x{h}x{w} images: the shipped lenet-mnist judges one-"
                        f"channel MNIST-like digits; train one on the model's data with `gan-studio "
                        f"train-classifier` and give it (--guide-classifier FILE)")
    return lenet_network(path)


def class_names(net) -> list[str]:
    return [str(i) for i in range(net.cfg.num_classes)]


def check_class(net, klass: int) -> int:
    n = net.cfg.num_classes
    if not 0 <= int(klass) < n:
        raise UserError(f"class {klass} is out of range: this classifier knows classes 0..{n - 1}")
    return int(klass)


def class_log_probs(net, images: torch.Tensor) -> torch.Tensor:
    """(N, num_classes) log p(class | image) for [-1, 1] images of any MNIST-like size."""
    return F.log_softmax(net(fit_lenet(images, net.cfg.img_resolution)), dim=1)


@torch.no_grad()
def w_prior(G, psi: float = 1.0, n: int = PRIOR_SEEDS) -> tuple[torch.Tensor, torch.Tensor]:
    """(w_avg, σ_w) of a style generator: the Gaussian fit of its w (seeds drawn with a fixed generator)."""
    dev = G.w_avg.device
    z = torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(0)).to(dev)
    w = G.mapping(z, truncation_psi=psi)[:, 0].float()
    mu = G.w_avg.float()
    return mu, (w - mu).square().mean(0).sqrt().clamp_min(1e-6)


@dataclass
class GuideStep:
    """The chain at one step: latents (N, dim) in `space`, their images and p(class) (N,)."""
    step: int
    total: int
    klass: int
    space: str
    latents: torch.Tensor
    images: torch.Tensor
    probs: torch.Tensor
    elapsed: float
    done: bool = False

    def ws(self, G) -> torch.Tensor:
        """(N, num_ws, w_dim) ws of the latents of a w chain (broadcast to every layer)."""
        return self.latents[:, None].expand(-1, G.num_ws, -1).clone()


class _Chain:
    """The map between u (whitened) and the generator: images(u) and the latent in its space."""

    def __init__(self, G, space: str, psi: float) -> None:
        if space not in SPACES:
            raise UserError(f"guide space must be z or w, not {space!r}")
        if space == "w" and getattr(G, "num_ws", 1) <= 1:
            raise UserError("this generator has no w space (it is not a style generator): guide in z")
        self.G, self.space, self.psi = G, space, psi
        self.dev = G.w_avg.device
        self.mu, self.sd = w_prior(G) if space == "w" else (None, None)

    def start(self, z: torch.Tensor, given: str = "z") -> torch.Tensor:
        """u of starting latents z (N, z_dim), or of ws (N, w_dim) when given == "w" (a w chain only)."""
        z = z.to(self.dev).float()
        if self.space == "z":
            return z.clone()
        with torch.no_grad():
            w = z if given == "w" else self.G.mapping(z, truncation_psi=self.psi)[:, 0]
        return (w - self.mu) / self.sd

    def latent(self, u: torch.Tensor) -> torch.Tensor:
        return u if self.space == "z" else self.mu + self.sd * u

    def images(self, u: torch.Tensor) -> torch.Tensor:
        G = self.G
        if self.space == "z":
            ws = G.mapping(u, truncation_psi=self.psi)
        else:
            ws = self.latent(u)[:, None].expand(-1, G.num_ws, -1)
        return G.synthesis(ws, noise_mode="const")


def guide_chain(G, net, klass: int, z: torch.Tensor, space: str = "z", steps: int = GUIDE_STEPS,
                class_step: float = CLASS_STEP, prior: float = PRIOR, noise: float = NOISE, seed: int = 0,
                psi: float = 1.0, every: int = 1, taper: bool = True, given: str = "z",
                jitter: int = JITTER) -> Iterator[GuideStep]:
    """Run the chain from latents z (N, z_dim) (given="w": from ws (N, w_dim), a w chain); yields a GuideStep
    every `every` steps and a last one (done)."""
    klass = check_class(net, klass)
    if steps < 0:
        raise UserError(f"guide steps must be at least 0, not {steps}")
    chain = _Chain(G, space, psi)
    if given == "w" and space != "w":
        raise UserError("a chain that starts from a w runs in w")
    gens = [torch.Generator().manual_seed(int(seed) + i) for i in range(z.shape[0])]   # row i: seed + i
    u, t0 = chain.start(z, given), time.perf_counter()
    m, scale = torch.zeros_like(u), u.shape[1] ** 0.5
    for step in range(steps):
        u = u.detach().requires_grad_(True)
        images = chain.images(u)
        logp = class_log_probs(net, _jittered(images, jitter, gens))[:, klass]
        (grad,) = torch.autograd.grad(logp.sum(), u)
        push = (1 - logp.detach().exp())[:, None] if taper else 1.0
        if step % max(1, every) == 0:
            yield _step(chain, u, images, logp, klass, step, steps, t0)
        eps = torch.stack([torch.randn(u.shape[1], generator=r) for r in gens]).to(u.device)
        m = MOMENTUM * m + push * scale * grad / grad.norm(dim=1, keepdim=True).clamp_min(1e-12)
        u = (u + class_step * m - prior * u + noise * eps).detach()
    with torch.no_grad():
        images = chain.images(u)
        logp = class_log_probs(net, images)[:, klass]
    yield _step(chain, u, images, logp, klass, steps, steps, t0, done=True)


def _jittered(images: torch.Tensor, jitter: int, gens: list) -> torch.Tensor:
    """Each image shifted by its own random whole-pixel offset in [-jitter, jitter]² (drawn from its row's generator,
    so a chain does not depend on the others in its batch)."""
    if jitter <= 0:
        return images
    offsets = [torch.randint(-jitter, jitter + 1, (2,), generator=r).tolist() for r in gens]
    return torch.stack([torch.roll(x, shifts=(dy, dx), dims=(1, 2)) for x, (dy, dx) in zip(images, offsets)])


def _step(chain: _Chain, u, images, logp, klass, step, total, t0, done=False) -> GuideStep:
    return GuideStep(step, total, klass, chain.space, chain.latent(u).detach().float().cpu(),
                     images.detach().float().clamp(-1, 1).cpu(), logp.detach().exp().cpu(),
                     time.perf_counter() - t0, done)


def guide(G, net, klass: int, z: torch.Tensor, **kw) -> GuideStep:
    """The chain's last state (its final latents, images and probabilities)."""
    steps = list(guide_chain(G, net, klass, z, every=10**9, **kw))
    return steps[-1]
