"""File subcommands: `gan-studio pack` (a compact copy of a model: half precision, chosen networks)."""
from __future__ import annotations

from pathlib import Path

from ..engine.errors import UserError
from .common import _arguments, command


def _pack_args(sp):
    sp.add_argument("--model", required=True, help="model name (see `gan-studio models`) or file path")
    sp.add_argument("--arch", default=None, help="architecture of a plain state_dict .pt file (default dcgan)")
    sp.add_argument("--out", required=True, help="the new .safetensors file")
    sp.add_argument("--networks", default=None,
                    help="comma-separated networks to keep, e.g. generator_ema,critic (default: all)")
    sp.add_argument("--float32", action="store_true", help="keep full precision (default: float16 weights)")


@command("pack", "write a compact copy of a model: float16 weights and only the networks you keep")
@_arguments(_pack_args)
def cmd_pack(args) -> int:
    from ..engine.bundle import pack_bundle
    from ..engine.catalog import open_model
    out = Path(args.out)
    if out.suffix.lower() != ".safetensors":
        raise UserError(f"--out must end in .safetensors, not {out.name!r}")
    bundle = open_model(args.model, arch=args.arch)
    roles = [r.strip() for r in args.networks.split(",") if r.strip()] if args.networks else None
    pack_bundle(bundle, out, half=not args.float32, roles=roles)
    before = bundle.path.stat().st_size if bundle.path else 0
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB from {before / 1e6:.1f} MB; "
          f"{'float32' if args.float32 else 'float16'}; networks: {', '.join(roles or bundle.networks)})")
    return 0
