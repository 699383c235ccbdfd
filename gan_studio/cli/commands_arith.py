"""`gan-studio arithmetic`: the DCGAN paper's vector arithmetic, mean(A) − mean(B) + mean(C) of three groups of
seeds in z or w (engine/latent/arithmetic.py), drawn as the paper's figure; A − B saved as a direction."""
from __future__ import annotations

from pathlib import Path

from ..engine.errors import UserError
from .args import int_in
from .common import _arguments, _load_generator, _model_args, command


def _arithmetic_args(sp):
    _model_args(sp)
    for name in ("a", "b", "c"):
        sp.add_argument(f"--{name}", required=True, metavar="SEEDS",
                        help=f"group {name.upper()}: seeds, e.g. 1,2,3 or 5-8")
    sp.add_argument("--space", default=None, choices=("z", "w"),
                    help="where the means are taken: z, or w of a style generator (its default)")
    sp.add_argument("--truncation", type=float, default=1.0, help="truncation psi of every sample")
    sp.add_argument("--out", required=True, help="the figure .png: each group's samples over its mean, the result")
    sp.add_argument("--result-only", action="store_true", help="write only the result image to --out")
    sp.add_argument("--scale", type=int_in(1, 1024), default=1, help="nearest-neighbour upscale of the PNG")
    sp.add_argument("--save-direction", default=None, metavar="FILE.safetensors",
                    help="save A − B as a direction (unit vector; its length L is printed and stored): "
                         "`sample --directions FILE --shift 0:L` adds A − B to any seed")
    sp.add_argument("--save-latent", default=None, metavar="FILE.npy",
                    help="save the result latent for `sample --z` ((1, z_dim) in z, (1, num_ws, w_dim) ws in w)")


@command("arithmetic", "latent vector arithmetic: mean(A) - mean(B) + mean(C) of groups of seeds, as in DCGAN")
@_arguments(_arithmetic_args)
def cmd_arithmetic(args) -> int:
    from ..engine.checks import require_finite_images
    from ..engine.imaging import make_grid, save_png
    from ..engine.latent import arithmetic as ar
    from ..engine.latent.sampling import parse_seeds
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise UserError(f"--out must end in .png, not {out.name!r}")
    groups = [parse_seeds(text) for text in (args.a, args.b, args.c)]
    bundle, G, _device = _load_generator(args)
    res = ar.arithmetic(G, *groups, space=args.space, psi=args.truncation)
    if args.result_only:
        images, cols = ar.render(G, res.result[None], res.space, res.psi), 1
    else:
        images, cols = ar.figure_tiles(G, res)
    require_finite_images(images, bundle.name)
    save_png(out, make_grid(images, cols, pad_value=ar.BACKGROUND), args.scale)
    print(f"wrote {out} (mean A − mean B + mean C in {res.space}, groups of "
          f"{'/'.join(str(len(g)) for g in groups)} seeds, from {bundle.name})")
    if args.save_latent:
        from ..engine.files import save_npy
        save_npy(args.save_latent, ar.result_latent(G, res).numpy())
        print(f"wrote {args.save_latent} (the result latent, for sample --z)")
    if args.save_direction:
        from ..engine.latent.directions import save_directions
        ds = ar.as_direction(G, res)
        save_directions(args.save_direction, ds)
        length = ds.extra["length"]
        print(f"wrote {args.save_direction} (A − B, length {length:.6g}: sample --directions "
              f"{args.save_direction} --shift 0:{length:.9g})")
    return 0
