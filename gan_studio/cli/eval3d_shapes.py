"""`eval3d`'s random-shape figures (engine/metrics/shapes3d.py): its options, the classifier it opens first (a
missing or wrong file fails before the slow IoU work), the run with progress, and the lines it prints."""
from __future__ import annotations

import sys

from ..engine.errors import UserError
from .args import int_in


def shape_args(sp) -> None:
    sp.add_argument("--n-random", type=int_in(0, 100_000), default=1000,
                    help="random shapes (seeds 0 … N-1, at the model's threshold) for the classifier's confidence, "
                         "classes covered, label entropy and the 3D FID; 0: none")
    sp.add_argument("--classifier", default=None,
                    help="the voxel classifier for those figures (default: the shipped voxnet-modelnet10; "
                         "or a `gan-studio train-voxel-classifier` .safetensors)")


def open_classifier(args):
    """The voxel classifier, or None when --n-random is 0."""
    if not args.n_random:
        return None
    if args.n_random < 2:
        raise UserError("--n-random must be 0 (no random-shape figures) or at least 2 (a covariance)")
    from ..engine.metrics.features import get_extractor
    from ..engine.metrics.voxel_features import NAME
    return get_extractor(f"{NAME}:{args.classifier}" if args.classifier else NAME)


def random_shape_result(args, net, model, data, train=None) -> dict:
    """The figures for `model`'s random shapes against `data` (the evaluated split), floor from the other split."""
    from ..engine.data.voxels import load_voxels
    from ..engine.metrics.shapes3d import random_shape_figures
    other_split = "train" if data.split == "test" else "test"
    other = train if train is not None and other_split == "train" else load_voxels(args.data, other_split)
    result = None
    for p in random_shape_figures(net, model.generator, model.threshold, data, other, n=args.n_random,
                                  seed=args.seed):
        result = p.get("result", result)
        if "done" in p and not args.json:
            print(f"{p['stage']}: {p['done']}/{p['total']}", end="\r", file=sys.stderr, flush=True)
    return result


def print_figures(result: dict) -> None:
    from ..engine.metrics.shapes3d import summary_lines
    for line in summary_lines(result):
        print(line)
