"""The subcommands. Each is (add_arguments, run, help); run raises UserError for anything the user can fix."""
from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path

from ..engine.errors import UserError
from .common import (COMMANDS, _arguments, _json_arg, _load_generator, _model_args,  # noqa: F401
                     _progress_line, command, print_training)

# ------------------------------------------------------------------ train

def _train_args(sp):
    sp.add_argument("--arch", default="dcgan")
    sp.add_argument("--arch-config", default="{}", help='JSON, e.g. \'{"width": 64, "z_dim": 64}\'')
    sp.add_argument("--loss", required=True,
                    help="vanilla, ns, lsgan, hinge, wgan (weight clipping), wgan-gp, mdgan, unrolled; each brings "
                         "its paper's optimiser, lr, n_critic and regulariser. --loss wgan --reg gp switches "
                         "clipping off and trains exactly as --loss wgan-gp (Adam 1e-4 (0, 0.9), lambda 10)")
    sp.add_argument("--reg", default=None, help="regulariser (default: the loss's own): none, gp, r1")
    sp.add_argument("--reg-weight", type=float, default=None,
                    help="regulariser weight (gp: lambda, r1: gamma; default: the recipe's)")
    sp.add_argument("--sn", action="store_true",
                    help="spectral normalisation of every conv / linear layer of the critic (Miyato et al. 2018); "
                         "the model file holds the normalised weights")
    sp.add_argument("--sn-generator", action="store_true", help="spectral normalisation of the generator too")
    sp.add_argument("--conditional", action="store_true",
                    help="class-conditional GAN on the dataset's labels (MNIST: 10 classes): the class one-hot joins "
                         "the generator's input, the critic is a projection discriminator; sample --class K picks one")
    sp.add_argument("--info", action="store_true",
                    help="InfoGAN: a categorical and continuous codes in the generator's input, a Q head on the critic "
                         "recovering them; --options info_cat (10), info_cont (2), info_lambda (1); sample --code")
    sp.add_argument("--options", default="{}",
                    help='recipe options as JSON, e.g. \'{"unroll_steps": 5}\' (unrolled critic steps, any loss), '
                         '\'{"ema_beta": 0}\', or \'{"mixing_prob": 0.9}\' for --arch stylegan2')
    sp.add_argument("--data", required=True,
                    help="MNIST folder or IDX file, image folder, .npy/.npz; for --arch mlp2d: toy:ring8 or an "
                         "(N, 2) .npy")
    sp.add_argument("--steps", type=int, required=True, help="generator steps")
    sp.add_argument("--batch", type=int, default=64)
    sp.add_argument("--out", required=True, help="output .safetensors (also the checkpoint)")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--resume", action="store_true", help="continue from --out")
    sp.add_argument("--lr", type=float, default=None)
    sp.add_argument("--n-critic", type=int, default=None)
    sp.add_argument("--checkpoint-every", type=int, default=500)
    sp.add_argument("--sample-every", type=int, default=500)
    sp.add_argument("--max-minutes", type=float, default=None, help="stop (and save) after this wall-clock time")
    sp.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    sp.add_argument("--device", default="auto")
    sp.add_argument("--quiet", action="store_true")


@command("train", "train a GAN on a dataset, with checkpoints and resume")
@_arguments(_train_args)
def cmd_train(args) -> int:
    from ..engine.training.loop import TrainConfig, train
    cfg = TrainConfig.from_dict(dict(
        data=args.data, arch=args.arch, arch_config=_json_arg(args.arch_config, "--arch-config"), loss=args.loss,
        reg=args.reg, reg_weight=args.reg_weight, options=_json_arg(args.options, "--options"),
        sn=args.sn, sn_generator=args.sn_generator, conditional=args.conditional, info=args.info,
        steps=args.steps, batch=args.batch, seed=args.seed, lr=args.lr, n_critic=args.n_critic,
        checkpoint_every=args.checkpoint_every, sample_every=args.sample_every,
        max_minutes=args.max_minutes, device=args.device, threads=args.threads))
    cmd = "gan-studio " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["train"] else None
    main_rank = os.environ.get("RANK", "0") == "0"         # under torchrun only rank 0 reports and writes
    print_training(train(cfg, args.out, resume=args.resume, command=cmd), args.quiet or not main_rank)
    if main_rank:
        print(f"wrote {args.out}")
    return 0


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
        print(f"{e.name:28s} {e.kind:16s} {e.arch:10s} z={e.z_dim} {shape:10s} {e.path}")
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
                "image_shape", "value_range", "networks",
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

def _code_args(sp, what: str = "image"):
    sp.add_argument("--class", dest="klass", type=int, default=None, metavar="K",
                    help=f"a conditional model's class for every {what} (default: per seed, from its latent)")
    sp.add_argument("--code", action="append", default=[], metavar="NAME=VALUE",
                    help=f"an InfoGAN code for every {what}, e.g. cat=3 or c0=0.5 (repeatable; others: per seed)")


def _sample_args(sp):
    _model_args(sp)
    sp.add_argument("--seed", type=int, default=None)
    sp.add_argument("--n", type=int, default=1)
    sp.add_argument("--z", default=None, help="(N, z_dim) .npy of latents instead of seeds")
    sp.add_argument("--out", required=True, help=".png (a grid) or .npy (float32 (N, C, H, W) in [-1, 1])")
    sp.add_argument("--truncation", type=float, default=1.0, help="truncation psi")
    sp.add_argument("--cols", type=int, default=None, help="grid columns (PNG)")
    sp.add_argument("--scale", type=int, default=1, help="nearest-neighbour upscale of the PNG")
    _code_args(sp)
    sp.add_argument("--directions", default=None, help="a directions .safetensors file (see `discover`)")
    sp.add_argument("--shift", action="append", default=[], metavar="INDEX:EPS",
                    help="shift along direction INDEX by EPS (repeatable; needs --directions)")
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


def _parse_shifts(items: list[str]) -> dict[int, float]:
    out: dict[int, float] = {}
    for item in items:
        try:
            k, eps = item.split(":")
            out[int(k)] = out.get(int(k), 0.0) + float(eps)
        except ValueError:
            raise UserError(f"bad --shift {item!r}: use INDEX:EPS, e.g. 3:-2.5") from None
    return out


def _shifted_images(G, z, args, device, codes: dict | None = None):
    """Images for latents z, with --directions/--shift edits and the chosen class / codes applied."""
    import torch
    from ..engine.latent.codes import apply_codes
    from ..engine.latent.directions import apply_shifts, load_directions
    from ..engine.latent.sampling import generate, synthesize
    if not args.directions:
        if args.shift:
            raise UserError("--shift needs --directions FILE")
        if not codes:
            return generate(G, z, truncation_psi=args.truncation, device=device)
        with torch.no_grad():
            ws = G.mapping(z.to(device), truncation_psi=args.truncation)
        return synthesize(G, apply_codes(G, ws, codes), device=device)
    ds = load_directions(args.directions, G)
    with torch.no_grad():
        kind, lat = apply_shifts(G, ds, z=z.to(device), shifts=_parse_shifts(args.shift),
                                 truncation_psi=args.truncation)
        if kind == "z" and not codes:
            return generate(G, lat, truncation_psi=args.truncation, device=device)
        ws = G.mapping(lat, truncation_psi=args.truncation) if kind == "z" else lat
        return synthesize(G, apply_codes(G, ws, codes or {}), device=device)


def _load_z(path: str, z_dim: int):
    import numpy as np
    import torch
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise UserError(f"cannot read latents {path}: {str(exc).splitlines()[0]}") from None
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != z_dim or not np.issubdtype(arr.dtype, np.number):
        raise UserError(f"{path}: latents must be a numeric (N, {z_dim}) array, not {arr.dtype} {arr.shape}")
    if not np.isfinite(arr).all():
        raise UserError(f"{path}: latents contain NaN or infinity")
    return torch.from_numpy(arr.astype(np.float32))


def _sample_codes(G, args) -> dict:
    """--class / --code as checked codes for G (one clear line for a model without them)."""
    from ..engine.latent.codes import check_codes, parse_codes
    return check_codes(G, parse_codes(args.code, args.klass))


@command("sample", "render images for seeds or latents to a PNG grid or a .npy array")
@_arguments(_sample_args)
def cmd_sample(args) -> int:
    import numpy as np
    from ..engine.imaging import save_grid
    from ..engine.latent.sampling import seed_range, seeds_latents
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".npy"):
        raise UserError(f"--out must end in .png or .npy, not {out.name!r}")
    if (args.seed is None) == (args.z is None):
        raise UserError("give either --seed S [--n N] or --z FILE.npy")
    bundle, G, device = _load_generator(args)
    codes = _sample_codes(G, args)
    if args.drs:
        if codes:
            raise UserError("--drs picks its own samples: --class and --code are not used with it")
        from .sample_drs import drs_images
        images = drs_images(args, bundle, G, device)
    else:
        from .sample_drs import refuse_drs_options
        refuse_drs_options(args)
        z = _load_z(args.z, G.z_dim) if args.z else seeds_latents(seed_range(args.seed, args.n), G.z_dim)
        images = _shifted_images(G, z, args, device, codes)
    if out.suffix.lower() == ".npy":
        from ..engine.bundle import atomic_write
        atomic_write(out, lambda tmp: np.save(open(tmp, "wb"), images.numpy().astype(np.float32)))
    else:
        save_grid(out, images, ncols=args.cols, scale=args.scale)
    print(f"wrote {out} ({images.shape[0]} images from {bundle.name})")
    return 0


# ------------------------------------------------------------------ evaluate

def _evaluate_args(sp):
    _model_args(sp)
    sp.add_argument("--data", required=True)
    sp.add_argument("--split", default="test", choices=["train", "test"])
    sp.add_argument("--n", type=int, default=10000)
    sp.add_argument("--truncation", type=float, default=1.0)
    sp.add_argument("--features", default="lenet-mnist",
                    help="feature network: lenet-mnist (shipped; MNIST-like digits), or inception:PATH for the "
                         "standard FID Inception-v3 of pytorch-fid, given its weights file "
                         "pt_inception-2015-12-05-6726825d.pth (not shipped, never downloaded: "
                         "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                         "pt_inception-2015-12-05-6726825d.pth); plain `inception` reads the path from "
                         "$GAN_STUDIO_INCEPTION. Inception FIDs are comparable with published ones (only with "
                         "that exact file) but slow on a CPU: 299x299 inputs")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--write", action="store_true", help="store the result in the model file's metadata")


@command("evaluate", "FID, precision/recall, density/coverage against real data")
@_arguments(_evaluate_args)
def cmd_evaluate(args) -> int:
    from ..engine.metrics.evaluate import evaluate_iter
    bundle, G, device = _load_generator(args)
    result = None
    for p in evaluate_iter(G, args.data, split=args.split, n=args.n, features=args.features,
                           truncation_psi=args.truncation, device=device):
        result = p.get("result", result)
        if not args.json and "stage" in p and p["stage"] != "done":
            print(f"{p['stage']}: {p['done']}/{p['total']}", end="\r", file=sys.stderr, flush=True)
    if args.write:
        _store_metrics(bundle, result, " ".join(["gan-studio"] + [shlex.quote(a) for a in sys.argv[1:]]))
    if args.json:
        print(json.dumps(result))
    else:
        print(f"\nFID {result['fid']:.3f}  precision {result['precision']:.3f}  recall {result['recall']:.3f}  "
              f"density {result['density']:.3f}  coverage {result['coverage']:.3f}  "
              f"({result['features']} features, n={result['n']}, {result['split']} split)")
    return 0


def _store_metrics(bundle, result: dict, command_line: str) -> None:
    from ..engine.bundle import resave_bundle
    meta = dict(bundle.meta)
    meta["metrics"] = dict(meta.get("metrics") or {}, **{result["split"]: dict(result, command=command_line)})
    resave_bundle(bundle, meta)


# ------------------------------------------------------------------ train-classifier

def _classifier_args(sp):
    sp.add_argument("--data", required=True, help="an MNIST-format folder (train and test files)")
    sp.add_argument("--out", required=True)
    sp.add_argument("--epochs", type=int, default=2)
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--threads", type=int, default=None)


@command("train-classifier", "train the lenet-mnist feature network used by FID and precision/recall")
@_arguments(_classifier_args)
def cmd_train_classifier(args) -> int:
    import torch
    from ..engine.data import load_images
    from ..engine.metrics.features import save_lenet, train_lenet
    if args.threads:
        torch.set_num_threads(args.threads)
    train, test = load_images(args.data, "train"), load_images(args.data, "test")
    final = None
    for p in train_lenet(train, test, epochs=args.epochs, seed=args.seed):
        if p.get("done"):
            final = p
        else:
            print(f"epoch {p['epoch']} step {p['step']} loss {p['loss']:.4f}", end="\r", file=sys.stderr)
    cmd = "gan-studio " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    save_lenet(args.out, final["net"], {
        "name": "lenet-mnist", "dataset": {"name": train.name, "path": args.data, "n": len(train)},
        "license": train.license, "training": {"command": cmd, "seed": args.seed, "epochs": args.epochs},
        "metrics": {"test_accuracy": final["accuracy"]}})
    print(f"\nwrote {args.out} (test accuracy {final['accuracy']:.4f})")
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


# ------------------------------------------------------------------ walk

def _walk_args(sp):
    _model_args(sp)
    src = sp.add_mutually_exclusive_group(required=True)
    src.add_argument("--seeds", help="keyframe seeds, e.g. 1,2,3 (one seed with --random-loop)")
    src.add_argument("--z", help="(K, z_dim) .npy of keyframe latents")
    sp.add_argument("--frames", type=int, required=True)
    sp.add_argument("--method", default=None, choices=["slerp", "lerp"],
                    help="interpolation (default: slerp in z, lerp in w)")
    sp.add_argument("--space", default="z", choices=["z", "w"], help="interpolate z, or ws (style generators)")
    sp.add_argument("--easing", default="linear", choices=["linear", "ease"])
    sp.add_argument("--loop", action="store_true", help="close the walk: the last frame leads back to the first")
    sp.add_argument("--random-loop", choices=["circle", "noise"], default=None,
                    help="a smooth random closed walk from the first seed instead of keyframes")
    sp.add_argument("--truncation", type=float, default=1.0)
    _code_args(sp, "frame")
    sp.add_argument("--out", required=True, help=".gif, .mp4, .npy (float32 (N, C, H, W)) or NAME.png (frames)")
    sp.add_argument("--fps", type=float, default=24.0)
    sp.add_argument("--scale", type=int, default=4, help="nearest-neighbour upscale for GIF/MP4/PNG")


def walk_latents(G, args, device):
    """The walk's ws (frames, num_ws, w_dim) from the CLI arguments, with --class / --code held fixed."""
    from ..engine.latent.codes import apply_codes
    return apply_codes(G, _walk_ws(G, args, device), _sample_codes(G, args))


def _walk_ws(G, args, device):
    import torch
    from ..engine.latent.sampling import parse_seeds, seeds_latents
    from ..engine.latent.walks import interpolate, random_loop
    if args.random_loop:
        if not args.seeds:
            raise UserError("--random-loop needs --seeds S (its first seed starts the loop)")
        z = random_loop(parse_seeds(args.seeds)[0], G.z_dim, args.frames, kind=args.random_loop)
        return G.mapping(z.to(device), truncation_psi=args.truncation)
    keys = _load_z(args.z, G.z_dim) if args.z else seeds_latents(parse_seeds(args.seeds), G.z_dim)
    with torch.no_grad():
        if args.space == "w":
            ws_keys = G.mapping(keys.to(device), truncation_psi=args.truncation).cpu()
            ws = interpolate(ws_keys, args.frames, args.method or "lerp", args.loop, args.easing)
            return ws.to(device)
        z = interpolate(keys, args.frames, args.method or "slerp", args.loop, args.easing)
        return G.mapping(z.to(device), truncation_psi=args.truncation)


@command("walk", "render a latent walk through keyframes (or a random loop) to GIF, MP4, PNG frames or .npy")
@_arguments(_walk_args)
def cmd_walk(args) -> int:
    from ..engine.export import FORMATS, export_frames
    from ..engine.latent.sampling import synthesize
    if Path(args.out).suffix.lower() not in FORMATS:
        raise UserError(f"--out must end in {', '.join(FORMATS)}, not {Path(args.out).name!r}")
    bundle, G, device = _load_generator(args)
    images = synthesize(G, walk_latents(G, args, device), device=device)
    for done, total in export_frames(images, images.shape[0], args.out, fps=args.fps, scale=args.scale):
        print(f"frame {done}/{total}", end="\r", file=sys.stderr, flush=True)
    print(f"\nwrote {args.out} ({images.shape[0]} frames from {bundle.name})")
    return 0


from . import commands_style  # noqa: E402,F401
from . import commands3d  # noqa: E402,F401
from . import commands_files  # noqa: E402,F401


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
    sp.add_argument("--k", type=int, default=32, help="number of directions")
    sp.add_argument("--steps", type=int, default=3000, help="training steps (voynov)")
    sp.add_argument("--preset", default="fast", choices=["fast", "paper"], help="voynov hyper-parameters")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--rca", action="store_true", help="also measure RCA and store it in the file")
    sp.add_argument("--threads", type=int, default=None)
    sp.add_argument("--out", required=True, help="directions .safetensors")
    sp.add_argument("--json", action="store_true")


@command("discover", "discover K latent directions (Voynov & Babenko, GANSpace, SeFa, random, coordinate)")
@_arguments(_discover_args)
def cmd_discover(args) -> int:
    from ..engine.latent.directions import discover, save_directions
    from ..engine.metrics.rca import rca
    bundle, G, device = _threads_and_generator(args)
    ds, last = None, 0.0
    for p in discover(G, args.method, args.k, steps=args.steps, seed=args.seed, preset=args.preset):
        ds = p.get("result", ds)
        if "step" in p and not args.json and (time.perf_counter() - last > 1 or p["step"] == p["total"]):
            last = time.perf_counter()
            print(f"step {p['step']}/{p['total']} loss {p['loss']:.3f} accuracy {p['accuracy']:.3f} "
                  f"eta {p['eta']:.0f} s", end="\r", file=sys.stderr, flush=True)
    ds.extra["command"] = "gan-studio " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    ds.extra["model"] = bundle.name
    if args.rca:
        ds.rca = rca(G, ds)["rca"]
    save_directions(args.out, ds)
    summary = {"out": args.out, "method": ds.method, "k": ds.k, "space": ds.space, "steps": ds.steps,
               "seconds": ds.extra.get("seconds"), "rca": ds.rca}
    print(json.dumps(summary) if args.json else f"\nwrote {args.out}: {summary}")
    return 0


def _rca_args(sp):
    _model_args(sp)
    sp.add_argument("--directions", required=True)
    sp.add_argument("--steps", type=int, default=6000, help="reconstructor training steps (the fixed budget)")
    sp.add_argument("--schedule", default="cosine", choices=["cosine", "constant"],
                    help="reconstructor learning-rate schedule (part of the budget)")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--threads", type=int, default=None)
    sp.add_argument("--json", action="store_true")


@command("rca", "reconstructor classification accuracy of a directions file (fixed budget)")
@_arguments(_rca_args)
def cmd_rca(args) -> int:
    from ..engine.latent.directions import load_directions
    from ..engine.metrics.rca import RCABudget, rca_iter
    bundle, G, device = _threads_and_generator(args)
    ds = load_directions(args.directions, G)
    t = time.perf_counter()
    for p in rca_iter(G, ds, RCABudget(steps=args.steps, schedule=args.schedule), seed=args.seed):
        if p["stage"] == "training" and not args.json:
            print(f"training reconstructor {p['step']}/{p['total']}", end="\r", file=sys.stderr, flush=True)
    p["seconds"] = round(time.perf_counter() - t, 1)
    print(json.dumps(p) if args.json else f"\nRCA {p['rca']:.3f} (K={p['k']}, {p['method']}; {p['budget']})")
    return 0
