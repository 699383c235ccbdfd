"""`gan-studio project`: put your own image into a model's latent space (GAN inversion, engine/latent/projection.py).

The latent file is a float32 .npy: (1, z_dim) for space z, (1, num_ws, w_dim) for w (the same w in every row)
and w+ (one w per layer). `sample --z` and `walk --z` read both kinds. The PNG shows target | reconstruction |
|difference| (black: equal, white: off by the whole range).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from ..engine.errors import UserError
from ..engine.latent.perceptual import FEATURES, is_weights_file
from ..engine.latent.projection import DEFAULT_STEPS, SPACES
from .common import _arguments, _load_generator, _model_args, command

MAX_VIDEO_FRAMES = 240


def _project_args(sp):
    _model_args(sp)
    sp.add_argument("--image", required=True, help="the image to project: PNG, JPEG, TIFF, BMP, GIF, WebP … of any "
                    "size and mode (fitted to the model's image shape: padded with its background, resized)")
    sp.add_argument("--space", default=None, choices=list(SPACES),
                    help="z, w (one w for every layer) or w+ (one w per layer; closest, least editable); default w "
                         "for a style generator, z otherwise (a DCGAN's w is its z: only z)")
    sp.add_argument("--steps", type=int, default=DEFAULT_STEPS, help=f"optimisation steps (default {DEFAULT_STEPS})")
    sp.add_argument("--seed", type=int, default=0, help="seed of the latent noise (and of the z-space start seeds)")
    sp.add_argument("--features", default="auto",
                    help="perceptual term of the loss: auto (lenet-mnist for MNIST-like models, else the model's "
                         "critic, else none), lenet-mnist, critic, pixels (pixel MSE only), or your own VGG weights "
                         "file (torchvision's vgg16 state_dict, .pth or .safetensors; nothing is downloaded)")
    sp.add_argument("--lpips", default=None,
                    help="LPIPS' linear weights for that VGG (the lpips package's weights/v0.1/vgg.pth): the loss "
                         "is then LPIPS itself")
    sp.add_argument("--invert", action="store_true",
                    help="invert the image first (dark ink on light paper -> light on dark, as MNIST digits are)")
    sp.add_argument("--out", required=True, help="the latent, .npy: (1, z_dim) for z, (1, num_ws, w_dim) for w / w+")
    sp.add_argument("--png", default=None, help="target | reconstruction | difference PNG (default: --out as .png)")
    sp.add_argument("--video", default=None, help="the optimisation steps as .mp4, .gif (or .npy, NAME.png)")
    sp.add_argument("--fps", type=float, default=30.0, help="video frames per second")
    sp.add_argument("--scale", type=int, default=4, help="nearest-neighbour upscale of the PNG and video")
    sp.add_argument("--json", action="store_true", help="print a JSON summary on stdout")


def _check_outputs(args) -> tuple[Path, Path, Path | None]:
    from ..engine.export import FORMATS
    out = Path(args.out)
    if out.suffix.lower() != ".npy":
        raise UserError(f"--out must end in .npy, not {out.name!r}")
    png = Path(args.png) if args.png else out.with_suffix(".png")
    if png.suffix.lower() != ".png":
        raise UserError(f"--png must end in .png, not {png.name!r}")
    video = Path(args.video) if args.video else None
    if video is not None and video.suffix.lower() not in FORMATS:
        raise UserError(f"--video must end in {', '.join(FORMATS)}, not {video.name!r}")
    if args.steps < 1:
        raise UserError(f"--steps must be at least 1, not {args.steps}")
    if args.features not in FEATURES and not is_weights_file(args.features):
        raise UserError(f"--features must be one of {', '.join(FEATURES)} or a VGG weights file (.pth, .pt, "
                        f".safetensors), not {args.features!r}")
    if args.lpips is not None and not is_weights_file(args.features):
        raise UserError("--lpips goes with a VGG weights file as --features (e.g. --features vgg16.pth)")
    if args.scale < 1 or args.fps <= 0:
        raise UserError("--scale must be at least 1 and --fps positive")
    return out, png, video


def _progress(p) -> str:
    lo = p.losses
    return (f"step {p.step}/{p.total} loss {lo['total']:.4f} (pixels {lo['pixels']:.4f} features "
            f"{lo['features']:.4f}) {p.elapsed:.1f} s")


@command("project", "find the latent of your own image (GAN inversion): writes the latent and a comparison PNG")
@_arguments(_project_args)
def cmd_project(args) -> int:
    import numpy as np
    import torch

    from ..engine.export import export_frames
    from ..engine.files import save_npy
    from ..engine.image_input import load_target
    from ..engine.imaging import save_grid, to_uint8
    from ..engine.latent.projection import check_space, default_space, project
    out, png, video = _check_outputs(args)
    bundle, G, device = _load_generator(args)
    space = check_space(G, args.space or default_space(G))
    target = load_target(args.image, G.image_shape, invert=args.invert)
    every = max(1, -(-args.steps // MAX_VIDEO_FRAMES))
    frames, last, shown = [], None, 0.0
    for p in project(G, target, space=space, steps=args.steps, seed=args.seed, features=args.features,
                     critic=bundle.networks.get("critic"), info={"image": str(args.image)}, lpips=args.lpips):
        last = p
        if video is not None and (p.done or p.step % every == 0 or p.step == 1):
            frames.append(torch.from_numpy(to_uint8(torch.cat([target, p.image], 3))))
        if not args.json and (time.perf_counter() - shown > 0.2 or p.done):
            shown = time.perf_counter()
            print(_progress(p), end="\n" if p.done else "\r", file=sys.stderr, flush=True)
    result, recon = last.result, last.image
    arr = (result.z if result.z is not None else result.ws).numpy().astype(np.float32)
    save_npy(out, arr)
    diff = (recon - target).abs() - 1.0                                  # |difference| in [0, 2] shown from black
    save_grid(png, torch.cat([target, recon, diff]), ncols=3, scale=args.scale)
    if video is not None:
        def frame(i):
            return frames[i].permute(0, 3, 1, 2).float() / 127.5 - 1.0
        for done, total in export_frames(frame, len(frames), video, fps=args.fps, scale=args.scale):
            if not args.json and (time.perf_counter() - shown > 0.2 or done == total):
                shown = time.perf_counter()
                print(f"video frame {done}/{total}", end="\n" if done == total else "\r", file=sys.stderr, flush=True)
    mse = float((recon - target).square().mean())
    summary = {"out": str(out), "png": str(png), "video": str(video) if video else None, "model": bundle.name,
               "image": str(args.image), "space": space, "shape": list(arr.shape), "steps": args.steps,
               "loss": result.info["loss"], "mse": round(mse, 6),
               "psnr": round(10 * np.log10(4.0 / max(mse, 1e-12)), 2), "seconds": round(last.elapsed, 2)}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"wrote {out} (space {space}, {tuple(arr.shape)}; loss {summary['loss']:.4f}, PSNR {summary['psnr']} dB)"
              f" and {png}" + (f" and {video}" if video else ""))
    return 0
