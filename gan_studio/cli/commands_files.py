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


def _import_args(sp):
    sp.add_argument("file", help="an NVlabs StyleGAN2-ADA / StyleGAN3 network pickle (network-snapshot-*.pkl)")
    sp.add_argument("--out", default=None,
                    help="the new .safetensors file (default: NAME.safetensors in your model folder, so that "
                         "`--model NAME` and the app find it)")
    sp.add_argument("--half", action="store_true", help="store float16 weights (half the size; renders in float32)")
    sp.add_argument("--force", action="store_true", help="replace --out when it exists")


@command("import", "convert an NVlabs StyleGAN2-ADA / StyleGAN3 network pickle into a GAN Studio model file, "
                   "without running any code from it")
@_arguments(_import_args)
def cmd_import(args) -> int:
    from ..engine.bundle import load_bundle, save_imported
    from ..engine.catalog import user_dir
    from ..engine.models.nvlabs.importer import summary
    src = Path(args.file).expanduser()
    bundle = load_bundle(src)
    if bundle.meta.get("source_format") != "nvlabs-pickle":
        raise UserError(f"{src.name} is not an NVlabs network pickle (use `gan-studio pack` for other models)")
    out = Path(args.out).expanduser() if args.out else user_dir() / f"{src.stem}.safetensors"
    if out.suffix.lower() != ".safetensors":
        raise UserError(f"--out must end in .safetensors, not {out.name!r}")
    if out.exists() and not args.force:
        raise UserError(f"{out} exists; pass --force to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    save_imported(bundle, out, half=args.half)
    print(summary(bundle.meta))
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB from {src.stat().st_size / 1e6:.1f} MB; "
          f"{'float16' if args.half else 'float32'}; sha256 of the source recorded)")
    return 0
