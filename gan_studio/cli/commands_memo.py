"""Memorisation subcommands: `gan-studio neighbours` (the nearest training images of samples) and
`gan-studio memorisation` (are the model's samples copies of its training images?), engine/metrics/memorisation.py."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..engine.errors import UserError
from ..engine.metrics.memorisation import (
    LOCAL_M,
    MEMORISED_ABOVE,
    PERCENTILE,
    memorisation_iter,
    memorisation_summary,
)
from ..engine.metrics.neighbours import PIXEL_MAX_RES, SPACES
from .common import _arguments, _load_generator, _load_z, _model_args, command

FEATURES_HELP = ("feature network: auto (lenet-mnist, shipped, for one-channel images; for RGB the FID Inception "
                 "when $GAN_STUDIO_INCEPTION names its weights file), lenet-mnist, or inception:PATH")


def _data_args(sp):
    sp.add_argument("--data", required=True, help="the training images: an MNIST folder, a folder of images, .npy/.npz")
    sp.add_argument("--train-n", type=int, default=None, metavar="N",
                    help="compare with the first N training images only (default: all)")
    sp.add_argument("--features", default="auto", help=FEATURES_HELP)
    sp.add_argument("--truncation", type=float, default=1.0, help="truncation psi of the samples")


def _progress(quiet: bool):
    def show(p):
        if not quiet and p.get("stage") not in (None, "done"):
            print(f"{p['stage']}: {p['done']}/{p['total']}   ", end="\r", file=sys.stderr, flush=True)
    return show


def _positive(value, flag: str) -> None:
    if value is not None and value < 1:
        raise UserError(f"{flag} must be at least 1, not {value}")


# ------------------------------------------------------------------ neighbours

def _neighbours_args(sp):
    _model_args(sp)
    src = sp.add_mutually_exclusive_group(required=True)
    src.add_argument("--seed", type=int, default=None, metavar="S", help="first seed")
    src.add_argument("--z", default=None, help="(N, z_dim) .npy of latents instead of seeds")
    sp.add_argument("--n", type=int, default=1, help="samples: seeds S .. S+N-1")
    _data_args(sp)
    sp.add_argument("--k", type=int, default=5, help="neighbours per sample")
    sp.add_argument("--space", default="features", choices=list(SPACES),
                    help="features: distance between feature vectors (--features); pixels: RMS pixel difference "
                         f"in [-1, 1] units (images above {PIXEL_MAX_RES} px compared at {PIXEL_MAX_RES} px)")
    sp.add_argument("--out", default=None, help="a .png: per row the sample, then its neighbours with distances")
    sp.add_argument("--json", action="store_true", help="print the neighbours as JSON")


@command("neighbours", "the k nearest training images of samples, in feature or pixel space (PNG and/or JSON)")
@_arguments(_neighbours_args)
def cmd_neighbours(args) -> int:
    from ..engine.latent.sampling import generate, seed_range, seeds_latents
    from ..engine.metrics.neighbours import nearest_training_images, neighbour_sheet
    _positive(args.k, "--k")
    _positive(args.train_n, "--train-n")
    if args.out is not None and Path(args.out).suffix.lower() != ".png":
        raise UserError(f"--out must end in .png, not {Path(args.out).name!r}")
    if args.z is not None and args.n != 1:
        raise UserError("--n goes with --seed; a --z file gives its own number of latents")
    bundle, G, device = _load_generator(args)
    if args.z is not None:
        z, names = _load_z(args.z, G.z_dim, G), None       # z, or ws (a w / w+ projection from `project`)
    else:
        seeds = seed_range(args.seed, args.n)
        z, names = seeds_latents(seeds, G.z_dim), seeds
    if z.ndim == 3:
        from ..engine.latent.sampling import synthesize
        images = synthesize(G, z, device=device)
    else:
        images = generate(G, z, truncation_psi=args.truncation, device=device)
    show = _progress(args.json)
    nb = nearest_training_images(images, args.data, k=args.k, space=args.space, features=args.features,
                                 n_train=args.train_n,
                                 progress=lambda d, t: show({"stage": "training images", "done": d, "total": t}))
    if not args.json:
        print(file=sys.stderr)
    captions = [f"seed {s}" for s in names] if names else [f"z {i}" for i in range(len(images))]
    if args.out:
        from ..engine.files import atomic_write
        sheet = neighbour_sheet(images, nb, captions)
        try:
            atomic_write(Path(args.out), lambda tmp: sheet.save(tmp, format="PNG"))
        except OSError as exc:
            raise UserError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    rows = nb.as_json()
    if args.json:
        key = "seed" if names else "latent"
        print(json.dumps({"model": bundle.name, "space": nb.space, "metric": nb.metric, "features": nb.features,
                          "k": args.k, "data": str(args.data), "n_train": nb.n_train,
                          "samples": [{key: names[i] if names else i, "neighbours": r}
                                      for i, r in enumerate(rows)]}))
    else:
        print(f"{args.k} nearest training images in {nb.space} space ({nb.metric}):")
        for cap, r in zip(captions, rows):
            print(f"  {cap}: " + ", ".join(f"#{e['index']}" + (f" ({e['label']})" if "label" in e else "") +
                                           f" {e['distance']:.4g}" for e in r))
        if args.out:
            print(f"wrote {args.out}")
    return 0


# ------------------------------------------------------------------ memorisation

def _memorisation_args(sp):
    _model_args(sp)
    _data_args(sp)
    sp.add_argument("--test", default=None,
                    help="held-out images the model was not trained on (default: the test split of an MNIST "
                         "folder --data, or the t10k images next to an MNIST train-images IDX file)")
    sp.add_argument("--test-n", type=int, default=10000, metavar="N", help="use the first N held-out images")
    sp.add_argument("--n", type=int, default=2000, help="generated samples (seeds --seed .. --seed+N-1)")
    sp.add_argument("--seed", type=int, default=0, help="first seed")
    sp.add_argument("--space", default="both", choices=["both", *SPACES],
                    help="where distances are measured (both: a sample flagged in either space counts)")
    sp.add_argument("--json", action="store_true")


@command("memorisation", "are the model's samples copies of its training images? (nearest-neighbour check "
                         "against held-out images; verdict memorised | ok)")
@_arguments(_memorisation_args)
def cmd_memorisation(args) -> int:
    _positive(args.train_n, "--train-n")
    _positive(args.test_n, "--test-n")
    bundle, G, device = _load_generator(args)
    spaces = SPACES if args.space == "both" else (args.space,)
    show, result = _progress(args.json), None
    for p in memorisation_iter(G, args.data, test=args.test, n=args.n, seed=args.seed, spaces=spaces,
                               features=args.features, n_train=args.train_n, n_test=args.test_n,
                               truncation_psi=args.truncation, device=device):
        show(p)
        result = p.get("result", result)
    result["model"] = bundle.name
    if args.json:
        print(json.dumps(result))
    else:
        print(file=sys.stderr)
        print(f"{bundle.name}: {memorisation_summary(result)}")
        print(f"(flagged: rho = distance to the nearest training image / the median of that distance for the "
              f"{LOCAL_M} held-out images nearest the sample, below the {PERCENTILE:g}st percentile of the "
              f"held-out images' rho; verdict memorised above {100 * MEMORISED_ABOVE:.0f} % in a space)")
    return 0
