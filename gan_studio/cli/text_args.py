"""Captions on the command line, for text-to-image models (`--arch gan-cls`, engine/latent/text.py):

    gan-studio sample --model M --text "a thin upright 4" --seed 0 --n 16 --out fours.png
    gan-studio walk --model M --seeds 3 --text "a thin 1" --text "a thick wide 7" --frames 48 --out walk.gif
"""
from __future__ import annotations

from ..engine.errors import UserError


def add_text_args(sp, walk: bool = False) -> None:
    if walk:
        sp.add_argument("--text", action="append", default=None, metavar="CAPTION",
                        help="text-to-image models: walk from caption to caption (give --text two or more times; "
                             "the first of --seeds gives the z held along the walk)")
    else:
        sp.add_argument("--text", default=None, metavar="CAPTION",
                        help='text-to-image models (--arch gan-cls): the caption, e.g. "a thin upright 4"; '
                             "seeds S..S+N-1 give N images of it")


def text_images(args, G, z, device):
    """Images of --text for latents z (N, z_dim), truncated by --truncation."""
    from ..engine.latent.text import caption_images
    if z.ndim != 2:
        raise UserError("--text takes seeds or z latents (N, z_dim), not ws")
    for flag in ("directions", "drs", "guide_class"):
        if getattr(args, flag, None):
            raise UserError(f"--text is not used with --{flag.replace('_', '-')}")
    return caption_images(G, args.text, z, args.truncation, device=device)


def text_walk_ws(G, args):
    """The walk's ws from caption to caption at the first seed's z (None without --text)."""
    if not args.text:
        return None
    from ..engine.latent.sampling import parse_seeds, seeds_latents
    from ..engine.latent.text import caption_walk_ws
    if not args.seeds or args.random_loop:
        raise UserError("a caption walk takes --seeds S (the z held along it) and no --random-loop")
    z = seeds_latents(parse_seeds(args.seeds)[:1], G.z_dim)
    return caption_walk_ws(G, args.text, z, args.frames, args.truncation, loop=args.loop).cpu()
