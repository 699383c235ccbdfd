"""Style subcommands: `gan-studio mix` (the StyleGAN mixing figure)."""
from __future__ import annotations

from pathlib import Path

from ..engine.errors import UserError
from .args import int_in
from .common import _arguments, _load_generator, _load_z, _model_args, command


def _mix_args(sp):
    _model_args(sp)
    sp.add_argument("--rows", required=True,
                    help="row sources: seeds, e.g. 1,2,3 or 1-3, or a .npy of latents (N, z_dim) or ws (N, num_ws, "
                         "w_dim) such as `gan-studio project`'s w / w+ (taken as they are, without truncation)")
    sp.add_argument("--cols", required=True, help="column sources: seeds, e.g. 4,5,6, or a .npy like --rows")
    sp.add_argument("--layers", required=True,
                    help="ws indices taken from the column source: none, all, coarse, middle, fine, "
                         "or 0-based inclusive indices like 0-3,6")
    sp.add_argument("--out", required=True,
                    help=".png (the grid with its source row and column) or .npy (float32 (rows, cols, C, H, W), "
                         "mixes only)")
    sp.add_argument("--truncation", type=float, default=1.0, help="truncation psi (towards w_avg)")
    sp.add_argument("--cutoff", type=int, default=None, help="truncate only ws indices below this one")
    sp.add_argument("--noise", default="const", choices=["const", "random", "none"], help="noise inputs")
    sp.add_argument("--scale", type=int_in(1, 1024), default=1, help="nearest-neighbour upscale of the PNG")


@command("mix", "style mixing grid: row sources with chosen layers taken from column sources")
@_arguments(_mix_args)
def cmd_mix(args) -> int:
    import numpy as np

    from ..engine.checks import require_finite_images
    from ..engine.imaging import save_png
    from ..engine.latent.mixing import format_layers, grid_canvas, parse_layers, render_mixing, ws_resolutions
    from ..engine.latent.sampling import parse_seeds
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".npy"):
        raise UserError(f"--out must end in .png or .npy, not {out.name!r}")
    if args.scale < 1:
        raise UserError(f"--scale must be at least 1, not {args.scale}")
    if not args.rows.lower().endswith(".npy"):
        parse_seeds(args.rows)                  # a bad seed list is refused before the model loads
    if not args.cols.lower().endswith(".npy"):
        parse_seeds(args.cols)
    bundle, G, _device = _load_generator(args)
    rows, cols = _sources(args.rows, G), _sources(args.cols, G)
    layers = parse_layers(args.layers, G.num_ws, ws_resolutions(G))
    if args.cutoff is not None and not 0 <= args.cutoff <= G.num_ws:
        raise UserError(f"--cutoff must be between 0 and {G.num_ws} (this generator's num_ws), not {args.cutoff}")
    grid = render_mixing(G, rows, cols, layers, args.truncation, args.cutoff, args.noise)
    require_finite_images(grid.cells, bundle.name)
    if out.suffix.lower() == ".npy":
        from ..engine.files import save_npy
        cells = grid.cells.numpy().astype(np.float32)
        try:
            save_npy(out, cells)
        except OSError as exc:
            raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    else:
        save_png(out, grid_canvas(grid), scale=args.scale)
    print(f"wrote {out} ({len(rows)}x{len(cols)} mixes, ws {format_layers(layers, G.num_ws)} from the columns, "
          f"from {bundle.name})")
    return 0



def _sources(text: str, G) -> list:
    """Mixing sources as `Latent`s: seeds ("1,2,3", "1-3"), or a .npy file of z rows or ws (a projection)."""
    from ..engine.latent.sampling import parse_seeds
    from ..engine.latent.state import Latent
    if not text.lower().endswith(".npy"):
        return [Latent.from_seed(s, G.z_dim) for s in parse_seeds(text)]
    arr = _load_z(text, G.z_dim, G)
    if arr.ndim == 2:
        return [Latent(z=arr[i:i + 1], source="file", info={"file": text, "row": i}) for i in range(len(arr))]
    return [Latent(ws=arr[i:i + 1], source="file", info={"file": text, "row": i}) for i in range(len(arr))]
