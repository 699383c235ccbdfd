"""`eval3d`'s random-shape figures (engine/metrics/shapes3d.py): its options, the classifier it opens first (a
missing or wrong file fails before the slow IoU work), the run with progress, and the lines it prints."""
from __future__ import annotations

import sys

from ..engine.errors import UserError
from .args import int_in


def shape_args(sp) -> None:
    sp.add_argument("--n-random", type=int_in(0, 100_000), default=1000,
                    help="random shapes (seeds 0 … N-1, at the model's sampling threshold and truncation) for the "
                         "classifier's confidence, classes covered, label entropy and the 3D FID; 0: none")
    sp.add_argument("--choose-sampling", action="store_true",
                    help="first choose the truncation ψ and threshold of random shapes on the training objects "
                         "(lowest 3D FID over a 10 × 9 grid; minutes on a laptop CPU); --write keeps them")
    sp.add_argument("--sample-threshold", type=float, default=None,
                    help="threshold of the random shapes (default: the model's sample_threshold)")
    sp.add_argument("--truncation", type=float, default=None,
                    help="truncation ψ of the random shapes' latents, in (0, 2] (default: the model's)")
    sampler_arg(sp, "the random shapes' ")
    sp.add_argument("--classifier", default=None,
                    help="the voxel classifier for those figures (default: the shipped voxnet-modelnet10; "
                         "or a `gan-studio train-voxel-classifier` .safetensors)")


SAMPLERS = ("auto", "prior", "gan")      # engine/reconstruction.SOURCES and its default


def sampler_arg(sp, whose: str = "") -> None:
    """--sampler (sample3d, eval3d): where a seed's shape comes from."""
    sp.add_argument("--sampler", default="auto", choices=SAMPLERS,
                    help=f"where {whose or 'the '}seeds' shapes come from: prior (a fitted latent prior, `gan-studio "
                         "prior3d`, decoded by the reconstruction generator), gan (the GAN's own sampling "
                         "generator, z = ψ · the seed's draw; its ψ defaults to 1 in a file whose chosen ψ is its "
                         "prior's) or auto (the prior where the file has one)")


def open_classifier(args):
    """The voxel classifier, or None when --n-random is 0."""
    if not args.n_random:
        return None
    if args.n_random < 2:
        raise UserError("--n-random must be 0 (no random-shape figures) or at least 2 (a covariance)")
    from ..engine.metrics.features import get_extractor
    from ..engine.metrics.voxel_features import NAME
    return get_extractor(f"{NAME}:{args.classifier}" if args.classifier else NAME)


MAX_TRUNCATION = 2.0            # engine/models/voxel_prior.py's (not imported: torch at start)


def check_truncation(psi: float | None) -> None:
    """--truncation (eval3d, sample3d): None (the model's) or in (0, MAX_TRUNCATION]."""
    if psi is not None and not 0.0 < psi <= MAX_TRUNCATION:
        raise UserError(f"--truncation must be in (0, {MAX_TRUNCATION:g}], not {psi:g}")


def check_sampling_args(args) -> None:
    """Bad --sample-threshold / --truncation values fail before any slow work."""
    if args.sample_threshold is not None and not 0.0 <= args.sample_threshold < 1.0:
        raise UserError(f"--sample-threshold must be in [0, 1), not {args.sample_threshold:g}")
    check_truncation(args.truncation)
    if args.choose_sampling and (args.sample_threshold is not None or args.truncation is not None):
        raise UserError("--choose-sampling chooses the threshold and truncation: give neither with it")
    if args.choose_sampling and not args.n_random:
        raise UserError("--choose-sampling needs random shapes: --n-random at least 2")


def check_sampler(args, model) -> None:
    """--sampler names one the model has; --write stores only the figures of the model's own (default) one."""
    if args.n_random and model.source(args.sampler) != model.sources[0] and args.write:
        raise UserError(f"--write stores the figures of the model's own sampler ({model.sources[0]}): leave out "
                        f"--sampler {args.sampler} with it, or give --n-random 0")


def drain_progress(args, progress) -> dict:
    """Run a progress iterator to its {"result": ...}, showing "stage: done/total" on stderr unless --json."""
    result = None
    for p in progress:
        result = p.get("result", result)
        if "done" in p and not getattr(args, "json", False):
            print(f"{p['stage']}: {p['done']}/{p['total']}", end="\r", file=sys.stderr, flush=True)
    return result


def random_shape_result(args, net, model, data, train=None) -> dict:
    """The figures for `model`'s random shapes against `data` (the evaluated split), floor from the other split;
    with --choose-sampling, at the ψ and threshold chosen first on the training split (under "choice")."""
    from ..engine.data.voxels import load_voxels
    from ..engine.metrics.sampling3d import choose_sampling
    from ..engine.metrics.shapes3d import random_shape_figures
    other_split = "train" if data.split == "test" else "test"
    other = train if train is not None and other_split == "train" else load_voxels(args.data, other_split)
    threshold = model.sample_threshold if args.sample_threshold is None else args.sample_threshold
    psi = model.default_truncation(args.sampler) if args.truncation is None else args.truncation
    sampler, choice = model.sampler(source=args.sampler), None
    if args.choose_sampling:
        choice = drain_progress(args, choose_sampling(net, sampler, other if other.split == "train" else data,
                                            n=args.n_random))
        threshold, psi = choice["threshold"], choice["truncation"]
    result = drain_progress(args, random_shape_figures(net, sampler, threshold, data, other, n=args.n_random,
                                             seed=args.seed, truncation=psi))
    return result if choice is None else dict(result, choice=choice)


def print_figures(result: dict) -> None:
    from ..engine.metrics.shapes3d import summary_lines
    for line in summary_lines(result):
        print(line)
    c = result.get("choice")
    if c:
        print(f"  ψ {c['truncation']:g} and threshold {c['threshold']:g} chosen on the {c['n_ref']} {c['split']} "
              f"objects (3D FID {c['fid']:.1f} there; {len(c['grid'])} pairs tried)")
