"""The model subcommands: `gan-studio models`, `info`, `sample` and `gui`. Each is (add_arguments, run, help); run
raises UserError for anything the user can fix. The other commands live in commands_*.py, next to this one;
`cli/main.py` imports them all (each registers itself with `common.command`)."""
from __future__ import annotations

import json
from pathlib import Path

from ..engine.errors import UserError
from .args import int_in, positive_int
from .common import _arguments, _code_args, _load_generator, _load_z, _model_args, _sample_codes, command
from .direction_edits import add_direction_args, direction_edit
from .sample_guide import add_guide_args, guided_images, refuse_guide_options
from .text_args import add_text_args, text_images

# ------------------------------------------------------------------ models / info

def _models_args(sp):
    sp.add_argument("--json", action="store_true")


@command("models", "list every model found (shipped and in the user folder)")
@_arguments(_models_args)
def cmd_models(args) -> int:
    from ..engine.catalog import list_models
    entries = list_models()
    if args.json:
        print(json.dumps([e.as_json() for e in entries], indent=2))
        return 0
    for e in entries:
        shape = "x".join(map(str, e.image_shape or [])) or "?"
        block = e.meta.get("translation") if isinstance(e.meta.get("translation"), dict) else None
        latent = f"z={e.z_dim}" if block is None else "x".join(map(str, block.get("input_shape") or [])) + " ->"
        print(f"{e.name:28s} {e.kind:16s} {e.arch:10s} {latent} {shape:10s} {e.path}")
    if not entries:
        print("no models found")
    return 0


def _info_args(sp):
    _model_args(sp)
    sp.add_argument("--json", action="store_true")


@command("info", "a model's metadata: provenance, metrics, networks")
@_arguments(_info_args)
def cmd_info(args) -> int:
    from ..engine.catalog import open_model
    b = open_model(args.model, trust_code=args.trust_code, arch=args.arch, z_dim=args.z_dim)
    meta = dict(b.meta)
    meta["path"] = str(b.path)
    meta["parameters"] = {role: sum(p.numel() for p in net.parameters()) for role, net in b.networks.items()}
    if args.json:
        print(json.dumps(meta, indent=2, default=str))
        return 0
    for key in ("name", "path", "kind", "arch", "config", "z_dim", "conditional", "num_classes", "info",
                "image_shape", "value_range", "threshold", "sample_threshold", "truncation", "prior", "networks",
                "parameters", "dataset", "license", "training", "metrics"):
        if key in meta:
            val = meta[key]
            if isinstance(val, dict):
                print(f"{key}:")
                for k, v in val.items():
                    print(f"  {k}: {v}")
            else:
                print(f"{key}: {val}")
    return 0


# ------------------------------------------------------------------ sample

def _sample_args(sp):
    _model_args(sp)
    sp.add_argument("--seed", default=None, metavar="S",
                    help="first seed (an integer), or a fractional seed X or X,Y: the blend of the seeds around "
                         "it, as the app's large view shows it while dragged (latent/drag.py)")
    sp.add_argument("--n", type=positive_int(1_000_000), default=1, help="number of images (at most 4 GB of them)")
    sp.add_argument("--z", default=None, help="(N, z_dim) .npy of latents instead of seeds, or ws (N, num_ws, "
                    "w_dim), e.g. from `gan-studio project`")
    sp.add_argument("--out", required=True, help=".png (a grid) or .npy (float32 (N, C, H, W) in [-1, 1])")
    sp.add_argument("--truncation", type=float, default=1.0, help="truncation psi")
    sp.add_argument("--cutoff", type=int, default=None,
                    help="truncate only the first CUTOFF ws (style generators; default: all)")
    sp.add_argument("--noise", default="const", choices=["const", "random", "none"],
                    help="noise inputs of a style generator (default const: the same image every time)")
    sp.add_argument("--cols", type=positive_int(), default=None, help="grid columns (PNG)")
    sp.add_argument("--scale", type=int_in(1, 1024), default=1, help="nearest-neighbour upscale of the PNG")
    sp.add_argument("--pyramid", action="store_true",
                    help="LAPGAN: each sample's Laplacian pyramid, one row a sample (coarse image, then residual "
                         "and image per finer level, scaled up to the output size)")
    _code_args(sp)
    add_direction_args(sp)
    sp.add_argument("--drs", action="store_true",
                    help="discriminator rejection sampling: try seeds S, S+1, … and keep the first N the model's "
                         "critic accepts (accepted seeds and the acceptance rate go to stderr)")
    sp.add_argument("--drs-percentile", type=float, default=None, metavar="P",
                    help="DRS: gamma makes the P-th percentile of F zero (default 95; higher keeps fewer, better)")
    sp.add_argument("--drs-burn-in", type=int, default=None, metavar="K",
                    help="DRS: generated samples scored first to estimate the maximum logit (default 2000)")
    sp.add_argument("--data", default=None,
                    help="DRS: real images (e.g. the MNIST folder) to calibrate a Wasserstein critic; the fit is "
                         "remembered, so later --drs runs need no --data")
    sp.add_argument("--drs-calibration", default=None, choices=["finetune", "affine"],
                    help="DRS: how --data calibrates the critic. finetune (the default, the DRS paper's): train a "
                         "copy of it with the logistic loss against the generator (~1 min on one CPU thread), "
                         "then Platt-scale; affine: only fit a*score+b (seconds, but on a Wasserstein critic it "
                         "made DRS worse). Without --data: the remembered fit of that kind (default: the "
                         "fine-tuned one if there is one, else the affine one)")
    sp.add_argument("--drs-finetune-steps", type=int, default=None, metavar="S",
                    help="DRS: the critic's fine-tuning steps with --data (default 1000, batch 64)")
    add_guide_args(sp)
    add_text_args(sp)


def _seed_zs(seed, n: int, z_dim: int):
    """(n, z_dim) latents of --seed S --n N: seeds S..S+N-1, or fractional positions X, X+1, … along x."""
    from ..engine.latent.drag import frac_zs
    from ..engine.latent.sampling import seed_range, seeds_latents
    if isinstance(seed, int):
        return seeds_latents(seed_range(seed, n), z_dim)
    return frac_zs(seed, n, z_dim)


def _shifted_images(G, z, args, device, codes: dict | None = None):
    """Images for latents z, with --directions/--shift edits and the chosen class / codes applied."""
    import torch

    from ..engine.latent.codes import apply_codes
    from ..engine.latent.directions import apply_shifts
    from ..engine.latent.sampling import generate, synthesize
    psi, cutoff, noise = args.truncation, getattr(args, "cutoff", None), getattr(args, "noise", "const")
    if cutoff is not None and not 0 < cutoff <= G.num_ws:
        raise UserError(f"--cutoff must be between 1 and {G.num_ws} (this model's number of ws), not {cutoff}")
    edit = direction_edit(G, args)
    if z.ndim == 3:                 # ws from --z (a w / w+ projection): truncated towards w_avg like z latents
        from ..engine.models.base import apply_truncation
        ws = apply_truncation(z.to(device), G.w_avg.to(device), psi, cutoff)
        if edit is not None:
            ds, shifts, layers = edit
            _, ws = apply_shifts(G, ds, ws=ws, shifts=shifts, layers=layers)
        return synthesize(G, apply_codes(G, ws, codes or {}), noise_mode=noise, device=device)
    if edit is None:
        if not codes:
            return generate(G, z, truncation_psi=psi, truncation_cutoff=cutoff, noise_mode=noise, device=device)
        with torch.no_grad():
            ws = G.mapping(z.to(device), truncation_psi=psi, truncation_cutoff=cutoff)
        return synthesize(G, apply_codes(G, ws, codes), noise_mode=noise, device=device)
    ds, shifts, layers = edit
    with torch.no_grad():
        kind, lat = apply_shifts(G, ds, z=z.to(device), shifts=shifts, truncation_psi=psi, layers=layers)
        if kind == "z" and not codes:
            return generate(G, lat, truncation_psi=psi, truncation_cutoff=cutoff, noise_mode=noise, device=device)
        ws = G.mapping(lat, truncation_psi=psi, truncation_cutoff=cutoff) if kind == "z" else lat
        return synthesize(G, apply_codes(G, ws, codes or {}), noise_mode=noise, device=device)


def _pyramid_images(G, z, args, device):
    """--pyramid: (N * (2L - 1), C, R, R) pyramid pictures of latents z (N, z_dim) or ws (N, L, w_dim)."""
    import torch

    from ..engine.models.lapgan import LAPGANGenerator, pyramid_figure
    if not isinstance(G, LAPGANGenerator):
        raise UserError(f"--pyramid shows a LAPGAN's Laplacian pyramid; this model is a {type(G).__name__}")
    if args.directions or args.shift or args.preset or args.text is not None:
        raise UserError("--pyramid shows plain samples: leave out --directions, --shift, --preset and --text")
    with torch.no_grad():
        ws = z.to(device) if z.ndim == 3 else G.mapping(z.to(device), truncation_psi=args.truncation)
        figure = pyramid_figure(G.pyramid(ws)).cpu()
    args.cols = args.cols or 2 * G.num_ws - 1
    return figure


@command("sample", "render images for seeds or latents to a PNG grid or a .npy array")
@_arguments(_sample_args)
def cmd_sample(args) -> int:
    import numpy as np

    from ..engine.checks import check_render_size, require_finite_images
    from ..engine.imaging import check_grid, save_grid
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".npy"):
        raise UserError(f"--out must end in .png or .npy, not {out.name!r}")
    if (args.seed is None) == (args.z is None):
        raise UserError("give either --seed S [--n N] or --z FILE.npy")
    if args.seed is not None:
        from ..engine.latent.drag import parse_seed
        args.seed = parse_seed(args.seed)           # an int as before, or a fractional SeedPos
    bundle, G, device = _load_generator(args)
    codes = _sample_codes(G, args)
    if args.z is None:
        check_render_size(args.n, G.image_shape, "--n")
        if out.suffix.lower() == ".png":
            check_grid(args.n, G.image_shape, args.cols, args.scale)
    if args.text is not None:
        z = _load_z(args.z, G.z_dim, G) if args.z else _seed_zs(args.seed, args.n, G.z_dim)
        images = text_images(args, G, z, device)
    elif args.guide_class is not None:
        z = _load_z(args.z, G.z_dim, G) if args.z else _seed_zs(args.seed, args.n, G.z_dim)
        images = guided_images(args, G, z)
    elif args.drs:
        if args.seed is not None and not isinstance(args.seed, int):
            raise UserError("--drs tries whole seeds S, S+1, …: give an integer --seed")
        if codes:
            raise UserError("--drs picks its own samples: --class and --code are not used with it")
        from .sample_drs import drs_images
        images = drs_images(args, bundle, G, device)
    else:
        from .sample_drs import refuse_drs_options
        refuse_drs_options(args)
        refuse_guide_options(args)
        z = _load_z(args.z, G.z_dim, G) if args.z else _seed_zs(args.seed, args.n, G.z_dim)
        images = _pyramid_images(G, z, args, device) if args.pyramid else _shifted_images(G, z, args, device, codes)
    require_finite_images(images, bundle.name)
    if out.suffix.lower() == ".npy":
        from ..engine.files import save_npy
        save_npy(out, images.numpy().astype(np.float32))
    else:
        save_grid(out, images, ncols=args.cols, scale=args.scale)
    print(f"wrote {out} ({images.shape[0]} images from {bundle.name})")
    return 0


# ------------------------------------------------------------------ gui

def _gui_args(sp):
    sp.add_argument("--screenshot", default=None, help="save a PNG of the window once rendered, then exit")
    sp.add_argument("--panel", default=None, help="panel to show (sampling, info, …)")
    sp.add_argument("--model", default=None)
    sp.add_argument("--device", default="auto")
    sp.add_argument("--trust-code", action="store_true")


@command("gui", "open the GAN Studio window (the default command)")
@_arguments(_gui_args)
def cmd_gui(args) -> int:
    try:
        from ..gui.app import run_gui
    except ImportError as exc:
        raise UserError(f"the GUI cannot start: {exc}") from None
    return run_gui(args)
