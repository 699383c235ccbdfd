"""`gan-studio paint`: iGAN-style painting, latents whose images obey brush strokes (engine/latent/painting.py).

The strokes file is a PNG with transparency the size of the model's image (or any size of its aspect ratio): alpha
marks the stroked pixels, the colour there is the target (white: ink, black: no ink, colour for an RGB model).
`--edges` is a sketch in the same form: alpha marks where it is, white asks for an edge there, black for none.
The grid PNG shows the strokes (over gray), the start image (with --start / --start-seed), then the candidates,
best first; `--latents` writes the candidates as float32 .npy: (n, z_dim) in z, (n, num_ws, w_dim) in w / w+,
which `sample --z`, `walk --z` and `paint --start` read.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from ..engine.errors import UserError
from ..engine.latent.painting import DEFAULT_PRIOR, DEFAULT_STARTS, DEFAULT_STEPS
from ..engine.latent.projection import SPACES
from .args import int_in, positive_int
from .common import _arguments, _load_generator, _load_z, _model_args, command


def _paint_args(sp):
    _model_args(sp)
    sp.add_argument("--strokes", required=True, help="PNG with transparency: alpha marks the strokes, white = ink, "
                    "black = no ink, a colour for RGB models (the model's image size, or resized)")
    sp.add_argument("--edges", default=None, help="sketch PNG, same form: alpha marks the sketch, white = an edge")
    start = sp.add_mutually_exclusive_group()
    start.add_argument("--start", default=None, help="one latent .npy to edit ((1, z_dim) or ws (1, num_ws, w_dim), "
                       "e.g. from project or paint --latents): strokes change it, the rest stays close")
    start.add_argument("--start-seed", type=int_in(0, 2**32 - 1), default=None, help="edit this seed's sample")
    sp.add_argument("--n", type=positive_int(64), default=4, help="candidates (default 4)")
    sp.add_argument("--steps", type=int_in(0, 100_000), default=DEFAULT_STEPS,
                    help=f"optimisation steps (default {DEFAULT_STEPS})")
    sp.add_argument("--starts", type=positive_int(1024), default=DEFAULT_STARTS,
                    help=f"random starts optimised together (default {DEFAULT_STARTS}; at least --n)")
    sp.add_argument("--prior", type=float, default=DEFAULT_PRIOR,
                    help=f"weight of the latent prior: higher stays more typical, lower obeys more (default "
                         f"{DEFAULT_PRIOR})")
    sp.add_argument("--space", default=None, choices=list(SPACES),
                    help="latent space to paint in (default: w for a style generator, z otherwise; a w+ start: w+)")
    sp.add_argument("--seed", type=int_in(0, 2**32 - 1), default=0, help="first seed of the random starts")
    sp.add_argument("--out", required=True, help="grid PNG: strokes, start, candidates")
    sp.add_argument("--latents", default=None, help="the candidates' latents, .npy")
    sp.add_argument("--scale", type=int_in(1, 64), default=4, help="nearest-neighbour upscale of the grid")
    sp.add_argument("--json", action="store_true", help="print a JSON summary on stdout")


def _start_latent(G, args):
    from ..engine.latent.state import Latent
    if args.start_seed is not None:
        return Latent.from_seed(args.start_seed, G.z_dim)
    if args.start is None:
        return None
    arr = _load_z(args.start, G.z_dim, G)
    if arr.shape[0] != 1:
        raise UserError(f"{args.start}: --start takes one latent, not {arr.shape[0]} (save the one to edit)")
    return Latent(z=arr, source="file", info={"path": args.start}) if arr.ndim == 2 else \
        Latent(ws=arr, source="file", info={"path": args.start})


def _check_outputs(args) -> tuple[Path, Path | None]:
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise UserError(f"--out must end in .png, not {out.name!r}")
    lat = Path(args.latents) if args.latents else None
    if lat is not None and lat.suffix.lower() != ".npy":
        raise UserError(f"--latents must end in .npy, not {lat.name!r}")
    if args.starts < args.n:
        raise UserError(f"--starts ({args.starts}) must be at least --n ({args.n})")
    if args.prior < 0:
        raise UserError(f"--prior must be at least 0, not {args.prior}")
    return out, lat


@command("paint", "iGAN-style painting: find samples that obey brush strokes (ink / no ink / colour / sketch)")
@_arguments(_paint_args)
def cmd_paint(args) -> int:
    import numpy as np
    import torch

    from ..engine.files import save_npy
    from ..engine.imaging import save_grid
    from ..engine.latent.painting import paint, read_strokes
    from ..engine.latent.sampling import synthesize
    out, lat_path = _check_outputs(args)
    _bundle, G, device = _load_generator(args)
    strokes = read_strokes(args.strokes, G.image_shape, edges=args.edges)
    start = _start_latent(G, args)
    last, shown = None, 0.0
    for p in paint(G, strokes, start=start, n=args.n, steps=args.steps, starts=args.starts, prior_weight=args.prior,
                   seed=args.seed, space=args.space):
        last = p
        if not args.json and (time.perf_counter() - shown > 0.2 or p.done):
            shown = time.perf_counter()
            print(f"step {p.step}/{p.total} strokes {p.losses['strokes']:.4f} prior {p.losses['prior']:.4f} "
                  f"total {p.losses['total']:.4f} {p.elapsed:.1f} s", end="\n" if p.done else "\r",
                  file=sys.stderr, flush=True)
    shown_strokes = (strokes.target * strokes.mask).unsqueeze(0)          # unstroked pixels: gray (0)
    tiles = [shown_strokes]
    if start is not None:
        tiles.append(synthesize(G, start.to_ws(G), device=device))
    tiles.append(last.images)
    save_grid(out, torch.cat(tiles), ncols=len(tiles) - 1 + last.images.shape[0], scale=args.scale)
    if lat_path is not None:
        save_npy(lat_path, torch.cat([r.z if r.z is not None else r.ws for r in last.results]).numpy()
                 .astype(np.float32))
    summary = {"out": str(out), "latents": str(lat_path) if lat_path else None, "space": last.space,
               "strokes": strokes.describe(), "steps": last.step, "seconds": round(last.elapsed, 2),
               "losses": [r.info["loss"] for r in last.results]}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"wrote {out} ({len(last.results)} candidates, space {last.space}, best loss "
              f"{summary['losses'][0]:.4f})" + (f" and {lat_path}" if lat_path else ""))
    return 0
