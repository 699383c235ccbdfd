"""`--directions F --shift INDEX:EPS[@LAYERS] --preset NAME|FILE.json`: a direction edit from the command line,
shared by `sample` and `walk`. LAYERS is a layer range typed as in the app: all, coarse, middle, fine, or ws
indices I-J (0-based, inclusive), for w-space directions on a style generator; it overrides the range stored in
the directions file for that shift. A preset's amounts and ranges come first; --shift adds to the amounts, and its
@LAYERS replaces the range."""
from __future__ import annotations

from ..engine.errors import UserError

SHIFT_HELP = ("shift along direction INDEX by EPS (repeatable, amounts add up; needs --directions). @LAYERS: only "
              "on those ws of a style generator (w-space directions): all, coarse, middle, fine or I-J (0-based, "
              "inclusive), e.g. 3:2.5@coarse or 3:2.5@0-4; without it, the range saved in the directions file")
PRESET_HELP = ("apply a named preset of amounts and layer ranges: one saved in the --directions file, or a "
               "standalone preset .json exported from the app (it must belong to these directions)")


def add_direction_args(sp) -> None:
    sp.add_argument("--directions", default=None, help="a directions .safetensors file (see `discover`)")
    sp.add_argument("--shift", action="append", default=[], metavar="INDEX:EPS[@LAYERS]", help=SHIFT_HELP)
    sp.add_argument("--preset", default=None, metavar="NAME|FILE.json", help=PRESET_HELP)


def parse_shifts(items: list[str]) -> tuple[dict[int, float], dict[int, str]]:
    """['3:2.5@coarse', '1:-1'] -> ({3: 2.5, 1: -1.0}, {3: 'coarse'}): amounts and typed layer ranges."""
    shifts: dict[int, float] = {}
    layers: dict[int, str] = {}
    for item in items:
        body, at, where = item.partition("@")
        try:
            k, eps = body.split(":")
            k, eps = int(k), float(eps)
        except ValueError:
            raise UserError(f"bad --shift {item!r}: use INDEX:EPS or INDEX:EPS@LAYERS, e.g. 3:-2.5 or "
                            f"3:2.5@coarse") from None
        shifts[k] = shifts.get(k, 0.0) + eps
        if at:
            if not where.strip():
                raise UserError(f"bad --shift {item!r}: nothing after @ (use e.g. @coarse or @0-4)")
            if k in layers and layers[k] != where:
                raise UserError(f"--shift gives direction {k} two layer ranges ({layers[k]!r} and {where!r})")
            layers[k] = where
    return shifts, layers


def direction_edit(G, args):
    """(DirectionSet, shifts, layer overrides) from --directions/--shift/--preset, or None without --directions."""
    from ..engine.latent.directions import load_directions
    from ..engine.latent.directions.layers import not_applicable, parse_range, ranges_apply
    from ..engine.latent.directions.presets import resolve_preset
    if not args.directions:
        for flag, value in (("--shift", args.shift), ("--preset", args.preset)):
            if value:
                raise UserError(f"{flag} needs --directions FILE")
        return None
    ds = load_directions(args.directions, G)
    shifts, typed = parse_shifts(args.shift)
    for k in shifts:
        if not 0 <= k < ds.k:
            raise UserError(f"direction index {k} out of range 0..{ds.k - 1}")
    if typed and not ranges_apply(G, ds.space):
        raise UserError(not_applicable(G, ds.space))
    layers: dict = {}
    if args.preset:
        preset = resolve_preset(ds, args.preset)
        if ranges_apply(G, ds.space):                   # a preset sets its directions' ranges (none: every layer)
            layers.update({k: preset.layers.get(k, (0, G.num_ws)) for k in preset.shifts})
        elif preset.layers:
            raise UserError(f"preset {preset.name!r} has layer ranges: " + not_applicable(G, ds.space))
        shifts = {k: preset.shifts.get(k, 0.0) + shifts.get(k, 0.0) for k in {**preset.shifts, **shifts}}
    layers.update({k: parse_range(text, G) for k, text in typed.items()})
    return ds, shifts, layers
