"""3D subcommands: render3d, reconstruct, sample3d, eval3d, prior3d, train3d (the VAE-IWGAN voxel model)."""
from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

from ..engine.checks import Range
from ..engine.errors import UserError
from .args import float_in, int_in
from .common import _arguments, _json_arg, command, print_training, safetensors_out
from .eval3d_shapes import (
    check_sampler,
    check_sampling_args,
    check_truncation,
    drain_progress,
    open_classifier,
    print_figures,
    random_shape_result,
    sampler_arg,
    shape_args,
)

OUT_SUFFIXES = (".npy", ".stl", ".obj", ".ply")
STYLES = ("shaded", "lines", "silhouette")          # engine/data/views.py STYLES (not imported: torch at start)


def _cmdline(args) -> str:
    """The command line that ran `args` (main's argv; sys.argv where a caller built args itself)."""
    return "gan-studio " + " ".join(shlex.quote(a) for a in getattr(args, "argv", sys.argv[1:]))


def _check_out(out: str) -> Path:
    p = Path(out)
    if p.suffix.lower() not in OUT_SUFFIXES:
        raise UserError(f"--out must end in {', '.join(OUT_SUFFIXES)}, not {p.name!r}")
    return p


def _threshold(value: float | None, default: float) -> float:
    t = default if value is None else value
    if not 0.0 <= t < 1.0:
        raise UserError(f"--threshold must be in [0, 1), not {t}")
    return t


def _voxel_model_args(sp) -> None:
    sp.add_argument("--model", required=True, help="voxel model name (see `gan-studio models`) or file path")
    sp.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cuda, mps or cpu")


def _open_voxel_model(args):
    from ..engine.device import choose_device
    from ..engine.reconstruction import VoxelModel
    choice = choose_device(args.device)
    if choice.message:
        print(f"gan-studio: {choice.message}", file=sys.stderr)
    return VoxelModel.open(args.model, choice.device)


def _out_args(sp) -> None:
    sp.add_argument("--out", required=True, help=".npy (voxel grid) or .stl / .obj / .ply (mesh)")
    sp.add_argument("--threshold", type=float, default=None, help="occupancy threshold (default: the model's)")
    sp.add_argument("--probabilities", action="store_true", help=".npy: float32 probabilities, not a bool grid")
    sp.add_argument("--mesh", default="cubes", choices=["cubes", "smooth"], help="mesh style for STL/OBJ/PLY")
    sp.add_argument("--json", action="store_true", help="print a JSON summary")


def _write_shape(args, probs, threshold: float, summary: dict) -> int:
    from ..engine.voxels_mesh import export_voxels
    export_voxels(probs, args.out, threshold, args.probabilities, args.mesh)
    summary = dict(summary, out=str(args.out), threshold=threshold, occupied=int((probs > threshold).sum()),
                   shape=list(probs.shape))
    if args.json:
        print(json.dumps(summary))
    else:
        what = f"a {summary['class'].replace('_', ' ')}, " if summary.get("class") else ""
        print(f"wrote {args.out} ({what}{summary['occupied']} occupied voxels at threshold {threshold:g})")
    return 0


# ------------------------------------------------------------------ render3d

def _render3d_args(sp):
    sp.add_argument("--voxels", required=True, help="a (32, 32, 32) .npy grid (bool or probabilities)")
    sp.add_argument("--out", required=True, help="output .png")
    sp.add_argument("--azimuth", type=float, default=45.0, help="degrees around the up (z) axis")
    sp.add_argument("--elevation", type=float, default=25.0, help="degrees above the horizon")
    sp.add_argument("--size", type=int, default=64, help="image size in pixels (the encoder uses 64)")
    sp.add_argument("--threshold", type=float, default=0.5)
    sp.add_argument("--style", default="shaded", choices=STYLES,
                    help="shaded, lines (a line drawing) or silhouette; white on black as the encoder's views")


@command("render3d", "render a voxel grid to a shaded grayscale PNG with the training-view renderer")
@_arguments(_render3d_args)
def cmd_render3d(args) -> int:
    import torch

    from ..engine.data.views import render_voxels
    from ..engine.imaging import save_png
    from ..engine.voxels_mesh import load_voxel_file
    if Path(args.out).suffix.lower() != ".png":
        raise UserError(f"--out must end in .png, not {Path(args.out).name!r}")
    if not 8 <= args.size <= 2048:
        raise UserError(f"--size must be between 8 and 2048, not {args.size}")
    grid = load_voxel_file(args.voxels)
    if not -90 <= args.elevation <= 90:
        raise UserError(f"--elevation must be in [-90, 90], not {args.elevation}")
    img = render_voxels(grid, args.azimuth, args.elevation, args.size, threshold=_threshold(args.threshold, 0.5),
                        style=args.style)
    save_png(args.out, torch.from_numpy(img)[None] * 2 - 1)
    print(f"wrote {args.out} ({args.size}x{args.size}, azimuth {args.azimuth:g}, elevation {args.elevation:g})")
    return 0


# ------------------------------------------------------------------ reconstruct / sample3d

def _reconstruct_args(sp):
    _voxel_model_args(sp)
    sp.add_argument("--image", required=True, help="any common image format (converted to grayscale)")
    _out_args(sp)
    sp.add_argument("--background", default="auto", choices=["auto", "keep"],
                    help="auto: map the border's level to black, as the training views")
    _refine_arg(sp)


def _refine_arg(sp) -> None:
    sp.add_argument("--refine", type=int, default=0, metavar="STEPS",
                    help="latent refinement after encoding: optimise z for STEPS steps so that the shape, rendered "
                         "from the camera that fits the image best, matches it (0: off; ~0.2 s a step on one CPU "
                         "thread)")


@command("reconstruct", "reconstruct a 32³ voxel shape from one image (.npy grid or STL/OBJ/PLY mesh)")
@_arguments(_reconstruct_args)
def cmd_reconstruct(args) -> int:
    from ..engine.image_input import prepare_view, read_grayscale
    _check_out(args.out)
    gray = read_grayscale(args.image)                      # a bad image fails before the model loads
    steps = _refine_steps(args.refine)
    model = _open_voxel_model(args)
    view = prepare_view(gray, model.image_size, args.background, Path(args.image).name)
    t0 = time.perf_counter()
    probs = model.reconstruct(view, refine=steps)
    seconds = time.perf_counter() - t0
    return _write_shape(args, probs, _threshold(args.threshold, model.threshold),
                        {"model": model.bundle.name, "image": str(args.image), "seconds": round(seconds, 4),
                         "refine": steps})


def _refine_steps(steps: int) -> int:
    from ..engine.reconstruction import MAX_REFINE_STEPS
    if not 0 <= steps <= MAX_REFINE_STEPS:
        raise UserError(f"--refine must be between 0 and {MAX_REFINE_STEPS} steps, not {steps}")
    return steps


def _sample3d_args(sp):
    _voxel_model_args(sp)
    sp.add_argument("--seed", type=int, required=True)
    sp.add_argument("--truncation", type=float, default=None,
                    help="ψ in (0, 2]: the spread of the seed's latent (default: the model's, chosen by eval3d "
                         "--choose-sampling; 1 for files without one)")
    sp.add_argument("--class", dest="component", default=None, metavar="NAME",
                    help="draw the seed from this class (e.g. chair; models with a fitted prior: "
                         "`gan-studio prior3d`); default: the class the seed draws")
    sampler_arg(sp)
    _out_args(sp)


@command("sample3d", "generate a random 32³ shape from a seed (.npy grid or STL/OBJ/PLY mesh)")
@_arguments(_sample3d_args)
def cmd_sample3d(args) -> int:
    _check_out(args.out)
    check_truncation(args.truncation)
    model = _open_voxel_model(args)
    psi = model.default_truncation(args.sampler) if args.truncation is None else args.truncation
    probs = model.sample(args.seed, psi, args.component, args.sampler)
    source = model.source(args.sampler)
    info = {"model": model.bundle.name, "seed": args.seed, "truncation": psi, "sampler": source}
    if source == "prior":
        i = model.component_index(args.component)
        info["class"] = model.components[i] if i is not None else model.seed_component(args.seed)
    return _write_shape(args, probs, _threshold(args.threshold, model.sample_threshold), info)


# ------------------------------------------------------------------ eval3d

def _eval3d_args(sp):
    _voxel_model_args(sp)
    sp.add_argument("--data", required=True, help="ModelNet10 32³ modelnet10.npz (or its folder)")
    sp.add_argument("--split", default="test", choices=["train", "test"])
    sp.add_argument("--seed", type=int, default=0, help="seed of the one random view per object")
    sp.add_argument("--threshold", type=float, default=None,
                    help="occupancy threshold (default: chosen on the training split)")
    sp.add_argument("--baseline", action="store_true", help="also score the class-mean-shape baseline")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--write", action="store_true", help="store the result and threshold in the model file")
    sp.add_argument("--style", default="shaded", choices=STYLES,
                    help="how the input views are drawn: shaded (the training views), lines or silhouette")
    _refine_arg(sp)
    sp.add_argument("--objects", type=int, default=None, metavar="N",
                    help="evaluate N objects evenly spread over the split (its classes) instead of all")
    shape_args(sp)                 # --n-random, --classifier: eval3d_shapes.py


@command("eval3d", "mean IoU of single-view reconstructions of ModelNet10 (per class, threshold from train)")
@_arguments(_eval3d_args)
def cmd_eval3d(args) -> int:
    from ..engine.data.voxels import load_voxels
    from ..engine.metrics.iou import baseline_iou, evaluate_reconstruction
    check_sampling_args(args)
    model = _open_voxel_model(args)
    check_sampler(args, model)
    classifier = open_classifier(args)                 # None with --n-random 0
    from ..engine.reconstruction import refine_settings
    steps = _refine_steps(args.refine)
    data = _spread(load_voxels(args.data, args.split), args.objects)
    th = _threshold(args.threshold, model.threshold) if args.threshold is not None or steps else None
    train = load_voxels(args.data, "train") if th is None or args.baseline else None
    result = drain_progress(args, evaluate_reconstruction(
        model.encoder, model.reconstruction_generator, data, train, th, args.seed, device=model.device,
        style=args.style, refine=refine_settings(steps)))
    result["objects"] = args.objects
    if args.baseline:
        result["baseline"] = baseline_iou(train, data)
    if classifier is not None:
        result["random_shapes"] = random_shape_result(args, classifier, model, data, train)
    if args.write:
        _store(model.bundle, result, _cmdline(args))
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"\nmean IoU {result['mean_iou']:.4f} (over objects), {result['class_mean_iou']:.4f} (over classes); "
          f"threshold {result['threshold']:g}; n={result['n']} {result['split']} objects; {args.style} views"
          + (f", refined {steps} steps ({result['ms_per_object']:g} ms an object)" if steps else ""))
    for name, v in result["per_class"].items():
        print(f"  {name:12s} {v:.4f}")
    if args.baseline:
        print(f"class-mean-shape baseline: {result['baseline']['mean_iou']:.4f}")
    if "random_shapes" in result:
        print_figures(result["random_shapes"])
    return 0


def _spread(data, n: int | None):
    """n objects of data evenly spread over it (so over its classes), or all of them."""
    import torch
    if n is None:
        return data
    if not 1 <= n <= len(data):
        raise UserError(f"--objects must be between 1 and {len(data)} (the {data.split} split), not {n}")
    return data.subset(torch.linspace(0, len(data) - 1, n).round().long())


def _store(bundle, result: dict, command_line: str) -> None:
    """The result under metrics.iou_<split>[_<style>][_refine<N>][_n<objects>]; only the plain figure (shaded
    views, no refinement, every object) sets the model's threshold."""
    from ..engine.bundle import resave_bundle
    meta = dict(bundle.meta)
    key = f"iou_{result['split']}"
    key += "" if result.get("style", "shaded") == "shaded" else f"_{result['style']}"
    key += f"_refine{result['refine_steps']}" if result.get("refine_steps") else ""
    key += "" if result.get("objects") is None else f"_n{result['objects']}"
    meta["metrics"] = dict(meta.get("metrics") or {}, **{key: dict(result, command=command_line)})
    if key == f"iou_{result['split']}":
        meta["threshold"] = result["threshold"]
    choice = (result.get("random_shapes") or {}).get("choice")
    if choice:                                          # --choose-sampling: the random shapes' own ψ and threshold
        meta["sample_threshold"], meta["truncation"] = choice["threshold"], choice["truncation"]
    resave_bundle(bundle, meta)


# ------------------------------------------------------------------ prior3d

def _prior3d_args(sp):
    _voxel_model_args(sp)
    sp.add_argument("--data", required=True, help="ModelNet10 32³ modelnet10.npz (or its folder): its train split")
    sp.add_argument("--out", required=True, help="the model with its prior, .safetensors (may be --model's file)")
    sp.add_argument("--views", type=int_in(1, 64), default=1, help="random views averaged per training object")
    sp.add_argument("--shrink", type=float_in(Range(0.0, 1.0)), default=0.1,
                    help="each class covariance shrunk this far towards its diagonal")
    sp.add_argument("--seed", type=int_in(0, 2**31 - 1), default=0, help="seed of the first view of each object")
    sp.add_argument("--half", action="store_true", help="store float16 weights (the size of a shipped file)")


@command("prior3d", "fit a voxel model's latent prior (a Gaussian per class over its encoder's latents of the "
                    "training objects) so that seeds draw from it and can be asked for a class")
@_arguments(_prior3d_args)
def cmd_prior3d(args) -> int:
    from ..engine.bundle import save_bundle
    from ..engine.data.voxels import load_voxels
    from ..engine.training.prior3d import fit_prior, with_prior
    safetensors_out(args.out)
    model = _open_voxel_model(args)
    data = load_voxels(args.data, "train")
    fit = drain_progress(args, fit_prior(model.encoder, data, args.views, args.shrink, args.seed, model.device))
    nets, meta = with_prior(model.bundle, fit["prior"], fit["report"], _cmdline(args))
    meta["stored"] = dict(meta.get("stored") or {}, precision="float16" if args.half else "float32",
                          networks=sorted(nets))       # what this file holds (where it was packed from stays)
    save_bundle(args.out, nets, meta, half=args.half)
    r = fit["report"]
    print(f"\nwrote {args.out}: a prior of {len(r['components'])} components (" + ", ".join(
        f"{c} {n}" for c, n in zip(r["components"], r["counts"])) + f" training objects; {r['views']} view(s) each, "
        f"shrink {r['shrink']:g}). Next: gan-studio eval3d --model {args.out} --data {args.data} "
        f"--choose-sampling --write")
    return 0


# ------------------------------------------------------------------ train3d

def _train3d_args(sp):
    sp.add_argument("--data", default="../shared/data/modelnet10_vox32",
                    help="ModelNet10 32³ modelnet10.npz or its folder (research use only)")
    sp.add_argument("--out", required=True, help="output .safetensors (also the checkpoint)")
    sp.add_argument("--steps", type=int, required=True, help="generator steps (each after 5 critic batches)")
    sp.add_argument("--batch", type=int, default=32)
    sp.add_argument("--arch-config", default="{}",
                    help='JSON, e.g. \'{"g_width": 16, "d_width": 16, "e_width": 32}\'')
    sp.add_argument("--options", default="{}", help='recipe options as JSON, e.g. \'{"recon": "bce"}\'')
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--resume", action="store_true", help="continue from --out")
    sp.add_argument("--lr", type=float, default=None, help="Adam learning rate (default 1e-4)")
    sp.add_argument("--n-critic", type=int, default=None, help="critic/encoder batches per generator step (5)")
    sp.add_argument("--checkpoint-every", type=int, default=200)
    sp.add_argument("--sample-every", type=int, default=200)
    sp.add_argument("--max-minutes", type=float, default=None, help="stop (and save) after this wall-clock time")
    sp.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    sp.add_argument("--device", default="auto")
    sp.add_argument("--quiet", action="store_true")


@command("train3d", "train the VAE-IWGAN image -> voxel model on ModelNet10 32³, with checkpoints and resume")
@_arguments(_train3d_args)
def cmd_train3d(args) -> int:
    from ..engine.training.loop import TrainConfig, train
    cfg = TrainConfig.from_dict(dict(
        data=args.data, arch="voxel-iwgan", arch_config=_json_arg(args.arch_config, "--arch-config"),
        loss="wgan-gp", steps=args.steps, batch=args.batch, seed=args.seed, lr=args.lr,
        n_critic=args.n_critic, checkpoint_every=args.checkpoint_every, sample_every=args.sample_every,
        max_minutes=args.max_minutes, device=args.device, threads=args.threads,
        options=_json_arg(args.options, "--options")))
    safetensors_out(args.out)
    print_training(train(cfg, args.out, resume=args.resume, command=_cmdline(args)), args.quiet, diversity=False)
    print(f"wrote {args.out}")
    return 0
