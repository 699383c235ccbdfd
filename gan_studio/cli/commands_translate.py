"""Image-to-image translation (issue 23): `gan-studio train-translation` (pix2pix, cyclegan, discogan, dualgan,
srresnet, srgan on the training loop: the same progress, checkpoints and resume as `train`), `gan-studio translate`
(one image through a translation model) and `evaluate` for translation models (`evaluate_translation`)."""
from __future__ import annotations

import json
import shlex
import sys

from ..engine.errors import UserError
from ..engine.training.loop import TrainConfig
from .args import int_in, positive_int
from .common import _arguments, _json_arg, command, config_args, print_training

RECIPES = ("pix2pix", "cyclegan", "discogan", "dualgan", "srresnet", "srgan")


# ------------------------------------------------------------------ train-translation

def _train_args(sp):
    sp.add_argument("--recipe", required=True, choices=RECIPES,
                    help="pix2pix (paired, cGAN + L1 100), cyclegan (LSGAN + cycle 10 + identity 5, pool 50), "
                         "discogan (GAN + reconstruction), dualgan (WGAN critics + L1 recon 100), srresnet (pixel "
                         "MSE), srgan (content + 1e-3 adversarial)")
    sp.add_argument("--data", required=True,
                    help="one source (MNIST folder, image folder, .npy/.npz) with --transform, a folder with A/ and "
                         "B/ subfolders (paired: the same file names), or domain A with --data-b (unpaired)")
    sp.add_argument("--data-b", default=None, help="unpaired: the source of domain B")
    sp.add_argument("--transform", default=None,
                    help="the named transform that derives domain A: strokes, edges, silhouette, thin, thick, "
                         "grayscale, invert, down2, down4 (default: the recipe's: pix2pix strokes, cycle recipes "
                         "edges, super-resolution down4)")
    sp.add_argument("--domains", default=None, help="names of the two domains, 'A,B' (e.g. strokes,digits)")
    sp.add_argument("--limit", type=int_in(0, 10**8), default=None, help="use the first N images of each domain")
    sp.add_argument("--out", required=True, help="output .safetensors (also the checkpoint)")
    sp.add_argument("--loss", default=None, help="the adversarial loss (default: the recipe's paper's)")
    sp.add_argument("--resume", action="store_true", help="continue from --out")
    config_args(sp, TrainConfig, "arch_config options steps batch seed lr n_critic checkpoint_every sample_every "
                                 "max_minutes threads device")
    sp.add_argument("--quiet", action="store_true")


def _options(args) -> dict:
    opts = _json_arg(args.options, "--options")
    for key in ("data_b", "transform", "domains", "limit"):
        value = getattr(args, key)
        if value is not None:
            opts[key] = value
    return opts


@command("train-translation", "train an image-to-image model (pix2pix, CycleGAN, DiscoGAN, DualGAN, SRResNet, SRGAN)")
@_arguments(_train_args)
def cmd_train_translation(args) -> int:
    from ..engine.translation import train_translation, translation_config
    cfg = translation_config(args.recipe, args.data, loss=args.loss, options=_options(args),
                             arch_config=_json_arg(args.arch_config, "--arch-config"), steps=args.steps,
                             batch=args.batch, seed=args.seed, lr=args.lr, n_critic=args.n_critic,
                             checkpoint_every=args.checkpoint_every, sample_every=args.sample_every,
                             max_minutes=args.max_minutes, threads=args.threads, device=args.device)
    cmd = "gan-studio " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if "train-translation" in sys.argv else None
    print_training(train_translation(cfg, args.out, resume=args.resume, command=cmd), args.quiet, diversity=False)
    print(f"wrote {args.out}")
    return 0


# ------------------------------------------------------------------ translate

def _translate_args(sp):
    sp.add_argument("--model", required=True, help="a translation model: name (see `gan-studio models`) or file")
    sp.add_argument("--image", required=True, help="the input image file (PNG, JPEG, ...)")
    sp.add_argument("--direction", default="a2b", choices=["a2b", "b2a"], help="b2a: cycle models only")
    sp.add_argument("--out", required=True, help="output PNG")
    sp.add_argument("--fit", action="store_true",
                    help="resize and convert the image to the model's input (else a different size or channel "
                         "count is refused)")
    sp.add_argument("--invert", action="store_true", help="dark strokes on a light background: invert first")
    sp.add_argument("--derive", action="store_true",
                    help="the image is of the target domain: make the model's input from it with the model's "
                         "training transform (e.g. a digit -> its strokes) first")
    sp.add_argument("--scale", type=positive_int(64), default=1, help="nearest-neighbour upscale of the PNG")
    sp.add_argument("--device", default="cpu")


def _read_input(t, path: str, direction: str, fit: bool, invert: bool, derive: bool):
    """The image as the model's input (1, C, H, W) in [-1, 1]; one line for a size or channel count that differs."""
    import numpy as np

    from ..engine.image_input import fit_pixels, read_image
    if derive and direction != "a2b":
        raise UserError("--derive makes domain A from a domain-B image: it goes with --direction a2b")
    want = t.shapes(direction)[1 if derive else 0]
    px = read_image(path, 3)                                       # (H, W, 3) in [0, 1]
    gray = bool(np.abs(px - px[..., :1]).max() < 1.5 / 255)
    channels = 1 if gray else 3
    c, h, w = want
    if not fit and (px.shape[:2] != (h, w) or channels != c and not (channels == 1 and c == 3)):
        kind = "gray" if gray else "colour"
        raise UserError(f"{path} is a {px.shape[1]}x{px.shape[0]} {kind} image; {t.name} takes {c}-channel "
                        f"{w}x{h} images{' (give the target-domain image size with --derive)' if derive else ''} "
                        f"(pass --fit to resize and convert it)")
    x = fit_pixels(px, want, invert)
    return t.derive_input(x) if derive else x


@command("translate", "translate an image with a translation model (pix2pix, CycleGAN, ..., SRGAN)")
@_arguments(_translate_args)
def cmd_translate(args) -> int:
    from ..engine.imaging import save_png
    from ..engine.translation import Translator
    t = Translator.open(args.model, device=args.device)
    x = _read_input(t, args.image, args.direction, args.fit, args.invert, args.derive)
    y = t.translate(x, args.direction)
    save_png(args.out, y[0], scale=args.scale)
    a, b = t.domains if args.direction == "a2b" else t.domains[::-1]
    print(f"wrote {args.out} ({t.family}: {a} -> {b}, {y.shape[-1]}x{y.shape[-2]})")
    return 0


# ------------------------------------------------------------------ evaluate (translation models)

def is_translation_model(model: str) -> bool:
    """Whether `model` (a name or path) is a translation model; False for anything else, unreadable included
    (`evaluate` then says what is wrong with it)."""
    from ..engine.bundle import read_metadata
    from ..engine.catalog import resolve_model
    try:
        return read_metadata(resolve_model(model)).get("kind") == "translation-model"
    except UserError:
        return False


def evaluate_translation(args) -> int:
    """`gan-studio evaluate --model TRANSLATION_MODEL --data DATA`: the figures of metrics/translation.py."""
    from ..engine.metrics.translation import evaluate_translator, summary_lines
    from ..engine.translation import Translator
    t = Translator.open(args.model, device="cpu" if args.device == "auto" else args.device)
    result = evaluate_translator(t, args.data, split=args.split, n=args.n, features=args.features)
    result["command"] = "gan-studio " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    if args.write:
        from ..engine.bundle import resave_bundle
        meta = dict(t.meta)
        meta["metrics"] = dict(meta.get("metrics") or {}, **{args.split: result})
        resave_bundle(t.bundle, meta)
    print(json.dumps(result) if args.json else "\n".join(summary_lines(result)))
    return 0
