"""Latent-walk and direction subcommands: `gan-studio walk` (the Walks tab's path: a `WalkSpec` made into frames
by `walk_frames_ws`, with the tab's defaults and help), `discover` and `rca`."""
from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

from ..engine.errors import UserError
from ..engine.jobs.walks import (
    DEFAULT_EASING,
    DEFAULT_FPS,
    DEFAULT_PSI,
    DEFAULT_SCALE,
    HELP,
    RANDOM_LOOPS,
    WalkSpec,
    seed_keyframes,
    walk_frames_ws,
    z_keyframes,
)
from ..engine.latent.directions.voynov import PRESET_TIPS, PRESETS
from ..engine.latent.walks import EASINGS, METHODS
from ..engine.metrics.rca import BUDGETS, budget_named, rca_iter
from .args import int_in, positive_float, positive_int
from .common import _arguments, _code_args, _load_generator, _load_z, _model_args, _sample_codes, command
from .direction_edits import add_direction_args, direction_edit
from .text_args import add_text_args, text_walk_ws

# ------------------------------------------------------------------ walk

def _walk_args(sp):
    _model_args(sp)
    src = sp.add_mutually_exclusive_group(required=True)
    src.add_argument("--seeds", help="keyframe seeds, e.g. 1,2,3 (one seed with --random-loop)")
    src.add_argument("--z", help="(K, z_dim) .npy of keyframe latents, or ws (K, num_ws, w_dim), e.g. from project")
    sp.add_argument("--frames", type=positive_int(1_000_000), required=True, help=HELP["frames"])
    sp.add_argument("--method", default=None, choices=list(METHODS),
                    help="interpolation (default: slerp in z, lerp in w)")
    sp.add_argument("--space", default="z", choices=["z", "w"], help="interpolate z, or ws (style generators)")
    sp.add_argument("--easing", default=DEFAULT_EASING, choices=list(EASINGS), help=HELP["easing"])
    sp.add_argument("--loop", action="store_true", help="close the walk: the last frame leads back to the first")
    sp.add_argument("--random-loop", choices=list(RANDOM_LOOPS), default=None,
                    help="a smooth random closed walk from the first seed instead of keyframes")
    sp.add_argument("--truncation", type=float, default=DEFAULT_PSI, help=HELP["psi"])
    _code_args(sp, "frame")
    sp.add_argument("--out", required=True, help=".gif, .mp4, .npy (float32 (N, C, H, W)) or NAME.png (frames)")
    sp.add_argument("--fps", type=positive_float, default=float(DEFAULT_FPS), help=HELP["fps"])
    sp.add_argument("--scale", type=int_in(1, 1024), default=DEFAULT_SCALE,
                    help="nearest-neighbour upscale for GIF/MP4/PNG")
    add_direction_args(sp)          # the same edit on every frame (layer ranges honoured)
    add_text_args(sp, walk=True)


def walk_spec(G, args) -> WalkSpec:
    """The walk the arguments describe, as the Walks tab would capture it: seed or --z keyframes, or a random
    loop from the first seed (no keyframes)."""
    from ..engine.latent.sampling import parse_seeds
    if args.random_loop:
        if not args.seeds:
            raise UserError("--random-loop needs --seeds S (its first seed starts the loop)")
        return WalkSpec([], args.frames, psi=args.truncation, random=args.random_loop,
                        random_seed=parse_seeds(args.seeds)[0])
    keys = _file_keyframes(_load_z(args.z, G.z_dim, G)) if args.z else seed_keyframes(parse_seeds(args.seeds), G.z_dim)
    return WalkSpec(keys, args.frames, method=args.method, loop=args.loop, easing=args.easing, psi=args.truncation,
                    space=args.space)


def _file_keyframes(lat) -> list:
    """Keyframes from --z: z rows (K, z_dim), or ws (K, num_ws, w_dim) such as `gan-studio project`'s w / w+."""
    if lat.ndim == 2:
        return z_keyframes(lat)
    from ..engine.latent.state import Latent
    return [Latent(ws=lat[i:i + 1], source="file", info={"row": i}) for i in range(lat.shape[0])]


def walk_latents(G, args):
    """The walk's ws (frames, num_ws, w_dim) on the CPU (`walk_frames_ws`, the Walks tab's path), every frame
    shifted by --directions/--shift/--preset (each direction on its layer range), then --class / --code held fixed
    on every frame."""
    from ..engine.latent.codes import apply_codes
    from ..engine.latent.directions import apply_shifts
    ws = text_walk_ws(G, args)
    ws = walk_frames_ws(G, walk_spec(G, args)) if ws is None else ws
    edit = direction_edit(G, args)
    if edit is not None:
        ds, shifts, layers = edit
        if ds.space == "z" and G.num_ws > 1:
            raise UserError("walk --directions shifts every frame's ws: these directions live in z, so use "
                            "w-space directions for this style generator (discover --space w)")
        _, ws = apply_shifts(G, ds, ws=ws, shifts=shifts, layers=layers)
    return apply_codes(G, ws, _sample_codes(G, args))


@command("walk", "render a latent walk through keyframes (or a random loop) to GIF, MP4, PNG frames or .npy")
@_arguments(_walk_args)
def cmd_walk(args) -> int:
    from ..engine.checks import check_output_pixels, check_render_size, require_finite_images
    from ..engine.export import FORMATS, export_frames
    from ..engine.latent.sampling import synthesize
    if Path(args.out).suffix.lower() not in FORMATS:
        raise UserError(f"--out must end in {', '.join(FORMATS)}, not {Path(args.out).name!r}")
    bundle, G, device = _load_generator(args)
    check_render_size(args.frames, G.image_shape, "--frames")
    _, h, w = G.image_shape
    check_output_pixels(h * args.scale, w * args.scale, f"a frame at --scale {args.scale}")
    images = synthesize(G, walk_latents(G, args), device=device)
    require_finite_images(images, bundle.name)
    for done, total in export_frames(images, images.shape[0], args.out, fps=args.fps, scale=args.scale):
        print(f"frame {done}/{total}", end="\r", file=sys.stderr, flush=True)
    print(f"\nwrote {args.out} ({images.shape[0]} frames from {bundle.name})")
    return 0


# ------------------------------------------------------------------ directions

def _threads_and_generator(args):
    """discover and rca: apply --threads, then load --model (as `_load_generator`)."""
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    return _load_generator(args)


def _discover_args(sp):
    _model_args(sp)
    sp.add_argument("--method", required=True, choices=["voynov", "ganspace", "sefa", "random", "coordinate"])
    sp.add_argument("--k", type=positive_int(4096), default=32, help="number of directions (at most the latent size)")
    sp.add_argument("--steps", type=int, default=None,
                    help="voynov: the step limit (default: the preset's; preset fast trains until its accuracy "
                         "stops improving, at most 20,000 steps)")
    sp.add_argument("--preset", default="fast", choices=list(PRESETS),
                    help="voynov hyper-parameters: " + " · ".join(f"{k}: {v}" for k, v in PRESET_TIPS.items()))
    sp.add_argument("--space", default=None, choices=["z", "w"],
                    help="voynov: where the directions live (default: w for style generators, z otherwise)")
    sp.add_argument("--batch", type=positive_int(4096), default=None,
                    help="voynov: latents per step (default: the preset's; smaller is faster per step on a big model)")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--rca", action="store_true", help="also measure RCA (protocol fast) and store it in the file")
    sp.add_argument("--threads", type=positive_int(1024), default=None)
    sp.add_argument("--out", required=True, help="directions .safetensors")
    sp.add_argument("--json", action="store_true")


@command("discover", "discover K latent directions (Voynov & Babenko, GANSpace, SeFa, random, coordinate)")
@_arguments(_discover_args)
def cmd_discover(args) -> int:
    from ..engine.latent.directions import discover, save_directions
    from ..engine.metrics.rca import rca
    bundle, G, device = _threads_and_generator(args)
    ds, last = None, 0.0
    if args.batch is not None and args.method != "voynov":
        raise UserError(f"--batch is for voynov (its training batch); {args.method} has none")
    extra = {"batch": args.batch} if args.batch is not None else {}
    for p in discover(G, args.method, args.k, steps=args.steps, seed=args.seed, preset=args.preset,
                      space=args.space, **extra):
        ds = p.get("result", ds)
        if "step" in p and not args.json and (time.perf_counter() - last > 1 or p["step"] == p["total"]):
            last = time.perf_counter()
            print(f"step {p['step']}/{p['total']} loss {p['loss']:.3f} accuracy {p['accuracy']:.3f} (chance "
                  f"{p['chance']:.3f}) lr {p['lr']:.1e} {p['elapsed']:.0f} s  ", end="\r", file=sys.stderr,
                  flush=True)
    ds.extra["command"] = "gan-studio " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    ds.extra["model"] = bundle.name
    if args.rca:
        ds.rca = rca(G, ds)["rca"]
    save_directions(args.out, ds)
    summary = {"out": args.out, "method": ds.method, "k": ds.k, "space": ds.space, "steps": ds.steps,
               "seconds": ds.extra.get("seconds"), "rca": ds.rca}
    if "convergence" in ds.extra:
        summary |= {"status": ds.extra["convergence"]["status"], "train_accuracy": ds.extra.get("train_accuracy")}
    print(json.dumps(summary) if args.json else f"\nwrote {args.out}: {summary}")
    return 0


def _rca_args(sp):
    _model_args(sp)
    sp.add_argument("--directions", required=True)
    sp.add_argument("--protocol", default="fast", choices=list(BUDGETS),
                    help="fast: pairs rendered once, a LeNet reconstructor at width 8 (1-2 minutes on a laptop CPU) · "
                         "lenet4: the previous fast one, width 4 (reads low) · full: the first release's protocol, "
                         "new pairs every step (about 12 minutes; undertrained)")
    sp.add_argument("--steps", type=positive_int(10_000_000), default=None,
                    help="reconstructor training steps (default: the protocol's)")
    sp.add_argument("--schedule", default=None, choices=["cosine", "constant"],
                    help="reconstructor learning-rate schedule (default: the protocol's, cosine)")
    sp.add_argument("--eval-pairs", type=positive_int(10_000_000), default=None,
                    help="held-out image pairs the accuracy is measured on (default: the protocol's)")
    sp.add_argument("--train-pairs", type=positive_int(100_000_000), default=None,
                    help="image pairs rendered once to train on (default: the protocol's; memory-capped)")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--threads", type=positive_int(1024), default=None)
    sp.add_argument("--json", action="store_true")


@command("rca", "reconstructor classification accuracy of a directions file (fixed budget)")
@_arguments(_rca_args)
def cmd_rca(args) -> int:
    from ..engine.latent.directions import load_directions
    bundle, G, device = _threads_and_generator(args)
    ds = load_directions(args.directions, G)
    t = time.perf_counter()
    budget = budget_named(args.protocol, steps=args.steps, schedule=args.schedule, eval_pairs=args.eval_pairs,
                          train_pairs=args.train_pairs)
    for p in rca_iter(G, ds, budget, seed=args.seed):
        if p["stage"] in ("rendering", "training") and not args.json:
            what = "rendering pairs" if p["stage"] == "rendering" else "training reconstructor"
            print(f"{what} {p['step']}/{p['total']}   ", end="\r", file=sys.stderr, flush=True)
    p["seconds"], p["protocol"] = round(time.perf_counter() - t, 1), args.protocol
    print(json.dumps(p) if args.json else f"\nRCA {p['rca']:.3f} (K={p['k']}, {p['method']}; {p['budget']})")
    return 0
