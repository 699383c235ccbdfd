"""What every CLI command module shares: the registry of subcommands and the helpers they all use.

The command modules import this one and register themselves with `@command`; `cli/main.py` imports the
command modules, so nothing here imports them back (no cycle).
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from ..engine.catalog import open_model
from ..engine.device import choose_device
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
    bundle = open_model(args.model, trust_code=args.trust_code, arch=args.arch, z_dim=args.z_dim)
    if bundle.kind != "image-generator":
        raise UserError(f"{bundle.name} is a {bundle.kind}, not an image generator")
    choice = choose_device(args.device)
    if choice.message:
        print(f"gan-studio: {choice.message}", file=sys.stderr)
    return bundle, bundle.generator().to(choice.device).eval(), choice.device


def _progress_line(p) -> str:
    losses = " ".join(f"{k}={v:+.3f}" for k, v in p.losses.items())
    pct = 100.0 * p.step / max(p.total, 1)
    return f"step {p.step}/{p.total} ({pct:5.1f}%) {losses} elapsed {p.elapsed / 60:.1f} min eta {p.eta / 60:.1f} min"


def _json_arg(text: str, flag: str) -> dict:
    """A JSON-object command-line value (--arch-config, --options); anything else is a one-line user error."""
    try:
        val = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{flag} is not valid JSON: {exc}") from None
    if not isinstance(val, dict):
        raise UserError(f"{flag} must be a JSON object")
    return val


def print_training(progress, quiet: bool, diversity: bool = True) -> None:
    """Show a training generator's Progress on stderr: messages, a progress line at most once a second (kept
    at checkpoints and the end) and, with `diversity`, the sample diversity with a warning when it halves."""
    last, first_diversity = 0.0, None
    for p in progress:
        if p.message:
            print(f"\n{p.message}", file=sys.stderr)
        if diversity and p.diversity is not None and not quiet:
            first_diversity = first_diversity or p.diversity
            warn = ("  -- the samples are becoming alike (mode collapse?)"
                    if p.diversity < 0.5 * first_diversity else "")
            print(f"\nsamples at step {p.step}: diversity {p.diversity:.3f} (pixel std across the fixed seeds)"
                  f"{warn}", file=sys.stderr)
        now = time.perf_counter()
        if not quiet and (now - last > 1.0 or p.done or p.checkpoint):
            end = "\n" if (p.checkpoint or p.done) else "\r"
            print(_progress_line(p), end=end, file=sys.stderr, flush=True)
            last = now
