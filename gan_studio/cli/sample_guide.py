"""`sample --guide-class K`: plug-and-play sampling with a classifier (engine/latent/guide.py). Seeds S…S+N−1 (or
--z latents) are the chains' starting points; each chain moves until the classifier calls its image class K."""
from __future__ import annotations

import sys

import torch

from ..engine.errors import UserError
from ..engine.latent import guide as g
from ..engine.render_plan import max_batch
from .args import int_in


def add_guide_args(sp) -> None:
    sp.add_argument("--guide-class", type=int, default=None, metavar="K",
                    help="plug-and-play sampling (PPGN-style): move each seed's latent until the classifier calls "
                         "its image class K (the shipped lenet-mnist for MNIST-like models, or --guide-classifier)")
    sp.add_argument("--guide-classifier", default=None, metavar="FILE",
                    help="the classifier that guides: a `gan-studio train-classifier` .safetensors")
    sp.add_argument("--guide-steps", type=int_in(0, 100_000), default=g.GUIDE_STEPS,
                    help=f"steps of the chain (default {g.GUIDE_STEPS})")
    sp.add_argument("--guide-space", default=None, choices=g.SPACES,
                    help="z, or w of a style generator (whitened by its spread around w_avg); default w for a "
                         "style generator (measured: more agreement and a lower FID than z, bench/ppgn.py), else z")
    sp.add_argument("--guide-step-size", type=float, default=g.CLASS_STEP,
                    help=f"size of the (normalised) class step (default {g.CLASS_STEP})")
    sp.add_argument("--guide-prior", type=float, default=g.PRIOR,
                    help=f"weight of the prior's pull towards the mode (default {g.PRIOR})")
    sp.add_argument("--guide-noise", type=float, default=g.NOISE,
                    help=f"std of the noise added each step (default {g.NOISE})")


GUIDE_FLAGS = ("guide_classifier", "guide_space")


def refuse_guide_options(args) -> None:
    """The --guide-* options that mean nothing without --guide-class."""
    for name in GUIDE_FLAGS:
        if getattr(args, name, None) is not None:
            raise UserError(f"--{name.replace('_', '-')} needs --guide-class K")


def guided_images(args, G, z):
    """Images of the chains' last states for the starting latents z (N, z_dim); a summary line on stderr."""
    if z.ndim != 2:
        raise UserError("--guide-class starts from z latents: give --seed S or a (N, z_dim) --z file")
    if args.directions or args.drs or args.klass is not None or args.code:
        raise UserError("--guide-class makes its own latents: --directions, --drs, --class and --code are not "
                        "used with it")
    net = g.load_classifier(G, args.guide_classifier)
    seed = args.seed if isinstance(args.seed, int) else 0
    space, n, batch = args.guide_space or g.default_space(G), z.shape[0], max_batch(G.image_shape)
    images, probs, elapsed = [], [], 0.0
    for i in range(0, n, batch):                  # chain i's noise is seeded seed + i: the same whatever the batch
        step = g.guide(G, net, args.guide_class, z[i:i + batch], space=space, steps=args.guide_steps,
                       class_step=args.guide_step_size, prior=args.guide_prior, noise=args.guide_noise,
                       seed=seed + i, psi=args.truncation)
        images.append(step.images)
        probs.append(step.probs)
        elapsed += step.elapsed
    p = torch.cat(probs)
    print(f"guided {n} latents to class {args.guide_class} in {args.guide_steps} steps ({space}): "
          f"p(class) mean {p.mean().item():.3f}, {(p > 0.5).double().mean().item() * 100:.0f} % above 0.5, "
          f"{elapsed:.1f} s", file=sys.stderr)
    return torch.cat(images)
