"""The subcommands. Each is (add_arguments, run, help); run raises UserError for anything the user can fix."""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

from ..engine.errors import UserError

COMMANDS: dict = {}


def command(name: str, help_: str):
    def deco(fn):
        COMMANDS[name] = (fn.add_arguments, fn, help_)
        return fn
    return deco


def _arguments(adder):
    def deco(fn):
        fn.add_arguments = adder
        return fn
    return deco


def _model_args(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--model", required=True, help="model name (see `gan-studio models`) or file path")
    sp.add_argument("--trust-code", action="store_true",
                    help="allow loading a TorchScript model (it is code: only for files you trust)")
    sp.add_argument("--arch", default=None, help="architecture of a plain state_dict .pt file (default dcgan)")
    sp.add_argument("--z-dim", type=int, default=None, help="latent size of a TorchScript model")
    sp.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cuda, mps or cpu")


def _load_generator(args):
    from ..engine.catalog import open_model
    from ..engine.device import choose_device
    bundle = open_model(args.model, trust_code=args.trust_code, arch=args.arch, z_dim=args.z_dim)
    if bundle.kind != "image-generator":
        raise UserError(f"{bundle.name} is a {bundle.kind}, not an image generator")
    choice = choose_device(args.device)
    if choice.message:
        print(f"gan-studio: {choice.message}", file=sys.stderr)
    return bundle, bundle.generator().to(choice.device).eval(), choice.device


# ------------------------------------------------------------------ train

def _train_args(sp):
    sp.add_argument("--arch", default="dcgan")
    sp.add_argument("--arch-config", default="{}", help='JSON, e.g. \'{"width": 64, "z_dim": 64}\'')
    sp.add_argument("--loss", required=True, help="ns, wgan-gp, …")
    sp.add_argument("--reg", default=None, help="regulariser (default: the loss's own): none, gp, r1")
    sp.add_argument("--data", required=True, help="MNIST folder or IDX file, image folder, .npy/.npz")
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


def _progress_line(p) -> str:
    losses = " ".join(f"{k}={v:+.3f}" for k, v in p.losses.items())
    pct = 100.0 * p.step / max(p.total, 1)
    return f"step {p.step}/{p.total} ({pct:5.1f}%) {losses} elapsed {p.elapsed / 60:.1f} min eta {p.eta / 60:.1f} min"


@command("train", "train a GAN on a dataset, with checkpoints and resume")
@_arguments(_train_args)
def cmd_train(args) -> int:
    from ..engine.training.loop import TrainConfig, train
    try:
        arch_config = json.loads(args.arch_config)
    except json.JSONDecodeError as exc:
        raise UserError(f"--arch-config is not valid JSON: {exc}") from None
    cfg = TrainConfig.from_dict(dict(
        data=args.data, arch=args.arch, arch_config=arch_config, loss=args.loss, reg=args.reg,
        steps=args.steps, batch=args.batch, seed=args.seed, lr=args.lr, n_critic=args.n_critic,
        checkpoint_every=args.checkpoint_every, sample_every=args.sample_every,
        max_minutes=args.max_minutes, device=args.device, threads=args.threads))
    cmd = "gan-studio " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["train"] else None
    last = 0.0
    for p in train(cfg, args.out, resume=args.resume, command=cmd):
        if p.message:
            print(f"\n{p.message}", file=sys.stderr)
        now = time.perf_counter()
        if not args.quiet and (now - last > 1.0 or p.done or p.checkpoint):
            end = "\n" if (p.checkpoint or p.done) else "\r"
            print(_progress_line(p), end=end, file=sys.stderr, flush=True)
            last = now
    print(f"wrote {args.out}")
    return 0
