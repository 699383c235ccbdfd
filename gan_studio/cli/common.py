"""What every CLI command module shares: the registry of subcommands and the helpers they all use.

The command modules import this one and register themselves with `@command`; `cli/main.py` imports the
command modules, so nothing here imports them back (no cycle).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ..engine.catalog import open_model
from ..engine.checks import require_finite_network
from ..engine.config import options_of
from ..engine.device import choose_device
from ..engine.errors import UserError
from .args import option_type

COMMANDS: dict = {}


def command(name: str, help_: str):
    def deco(fn):
        COMMANDS[name] = (fn.add_arguments, fn, help_)
        return fn
    return deco


def safetensors_out(path) -> None:
    """A training command's --out: one of our .safetensors files (also its checkpoint), checked before any work."""
    if not str(path).endswith(".safetensors"):
        raise UserError(f"--out must end in .safetensors, not {Path(path).name!r}")


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
    require_finite_network(bundle.generator(), f"{bundle.name}'s generator")   # never an all-NaN array, a black PNG
    choice = choose_device(args.device)
    if choice.message:
        print(f"gan-studio: {choice.message}", file=sys.stderr)
    return bundle, bundle.generator().to(choice.device).eval(), choice.device


def config_args(sp: argparse.ArgumentParser, cls: type, names: str) -> None:
    """Add the arguments for the Config fields `names` (space-separated, in this order) of `cls`, built from the
    fields' defaults, types and help (`engine.config.option`): a bool is a store_true flag, a dict a JSON value."""
    table = options_of(cls)
    for name in names.split():
        o = table[name]
        if o.cli.get("flag") is False:
            raise ValueError(f"{cls.__name__}.{name} has no command-line flag")
        kw: dict = {} if o.help is None else {"help": o.help}
        if o.type is bool:
            kw["action"] = "store_true"
        else:
            if o.type in (int, float):
                kw["type"] = option_type(o)          # the field's kind and bounds, as TrainConfig checks them
            if o.cli.get("required"):
                kw["required"] = True
            else:
                kw["default"] = json.dumps(o.default) if o.type is dict else o.default
        sp.add_argument(o.flag, **kw)


def config_values(args, cls: type) -> dict:
    """The values of every command-line Config field of `cls` in `args` (JSON ones parsed), for `cls.from_dict`."""
    out = {}
    for o in options_of(cls).values():
        if o.cli.get("flag") is not False:
            val = getattr(args, o.name)
            out[o.name] = _json_arg(val, o.flag) if o.type is dict else val
    return out


def _code_args(sp, what: str = "image"):
    sp.add_argument("--class", dest="klass", type=int, default=None, metavar="K",
                    help=f"a conditional model's class for every {what} (default: per seed, from its latent)")
    sp.add_argument("--code", action="append", default=[], metavar="NAME=VALUE",
                    help=f"an InfoGAN code for every {what}, e.g. cat=3 or c0=0.5 (repeatable; others: per seed)")


def _sample_codes(G, args) -> dict:
    """--class / --code as checked codes for G (one clear line for a model without them)."""
    from ..engine.latent.codes import check_codes, parse_codes
    return check_codes(G, parse_codes(args.code, args.klass))


def _load_z(path: str, z_dim: int, G=None):
    """Latents (N, z_dim) from a .npy file (--z), checked: one line for anything wrong with the file. Given the
    generator G, ws (N, num_ws, w_dim) are accepted too (e.g. `gan-studio project`'s w and w+ latents): the
    result is then 3-D."""
    import numpy as np
    import torch
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise UserError(f"cannot read latents {path}: {str(exc).splitlines()[0]}") from None
    if arr.ndim == 1:
        arr = arr[None]
    ws_shape = None if G is None else (G.num_ws, G.w_dim)
    ok = arr.ndim == 2 and arr.shape[1] == z_dim or ws_shape is not None and arr.ndim == 3 and arr.shape[1:] == ws_shape
    if not ok or not np.issubdtype(arr.dtype, np.number):
        want = f"(N, {z_dim})" + ("" if ws_shape is None else f" or ws (N, {ws_shape[0]}, {ws_shape[1]})")
        raise UserError(f"{path}: latents must be a numeric {want} array, not {arr.dtype} {arr.shape}")
    if not np.isfinite(arr).all():
        raise UserError(f"{path}: latents contain NaN or infinity")
    return torch.from_numpy(arr.astype(np.float32))


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
            if p.step > p.start + 1:               # the first step's samples (an untrained model) are no reference
                first_diversity = first_diversity or p.diversity
            warn = ("  -- the samples are becoming alike (mode collapse?)"
                    if first_diversity and p.diversity < 0.5 * first_diversity else "")
            print(f"\nsamples at step {p.step}: diversity {p.diversity:.3f} (pixel std across the fixed seeds)"
                  f"{warn}", file=sys.stderr)
        now = time.perf_counter()
        if not quiet and (now - last > 1.0 or p.done or p.checkpoint):
            end = "\n" if (p.checkpoint or p.done) else "\r"
            print(_progress_line(p), end=end, file=sys.stderr, flush=True)
            last = now
