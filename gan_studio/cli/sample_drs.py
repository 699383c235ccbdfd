"""`gan-studio sample --drs`: discriminator rejection sampling over the seeds S, S+1, … (engine: latent/drs.py).

The output holds the first N accepted images in seed order; stderr tells which seeds they are and how many
candidates it took, so `sample --seed s` renders any one of them again.
"""
from __future__ import annotations

import sys

from ..engine.errors import UserError

DRS_ONLY = ("data", "drs_percentile", "drs_burn_in", "drs_calibration", "drs_finetune_steps")


def refuse_drs_options(args) -> None:
    """DRS options without --drs are a mistake worth one line."""
    given = [f"--{name.replace('_', '-')}" for name in DRS_ONLY if getattr(args, name, None) is not None]
    if given:
        raise UserError(f"{', '.join(given)}: only used with --drs")


def format_seeds(seeds: list[int]) -> str:
    """[1, 2, 3, 7] -> '1-3,7' (what `parse_seeds` reads back)."""
    parts, i = [], 0
    while i < len(seeds):
        j = i
        while j + 1 < len(seeds) and seeds[j + 1] == seeds[j] + 1:
            j += 1
        parts.append(str(seeds[i]) if j == i else f"{seeds[i]}-{seeds[j]}")
        i = j + 1
    return ",".join(parts)


def _progress(p: dict) -> None:
    if "done" in p:
        print(f"DRS calibration, {p['stage']}: {p['done']}/{p['total']}", end="\r", file=sys.stderr, flush=True)


def drs_images(args, bundle, G, device):
    """Accepted images (N, C, H, W) for `sample --drs`; the run's figures go to stderr."""
    from ..engine.latent.drs import DEFAULT_BURN_IN, DEFAULT_PERCENTILE, check_percentile, drs_iter
    from ..engine.latent.drs_calibration import calibration_dir, critic_of, resolve_calibration
    if args.z or args.directions or args.shift or args.preset:
        raise UserError("--drs picks its own seeds: use --seed S --n N, without --z, --directions, --shift or "
                        "--preset")
    percentile = check_percentile(DEFAULT_PERCENTILE if args.drs_percentile is None else args.drs_percentile)
    burn_n = DEFAULT_BURN_IN if args.drs_burn_in is None else args.drs_burn_in
    critic = critic_of(bundle).to(device)
    if args.drs_finetune_steps is not None and not (args.data and args.drs_calibration != "affine"):
        raise UserError("--drs-finetune-steps: only used when --data fits a fine-tuned calibration")
    cal = resolve_calibration(bundle, G, critic, args.data, method=args.drs_calibration,
                              steps=args.drs_finetune_steps, progress=_progress)
    where = f" (remembered in {calibration_dir()})" if args.data else ""
    if args.data:
        print(file=sys.stderr)                      # after the calibration's progress line
    print(f"DRS calibration: {cal.describe()}{where}", file=sys.stderr)
    result = None
    for p in drs_iter(G, critic, cal, args.seed, args.n, percentile=percentile, burn_in_n=burn_n,
                      truncation_psi=args.truncation, device=device):
        result = p.get("result", result)
        if "done" in p:
            print(f"DRS {p['stage']}: {p['done']}/{p['total']}", end="\r", file=sys.stderr, flush=True)
    r = result
    print(f"\nDRS: accepted {len(r.seeds)} of {r.candidates} candidate seeds from {r.first_seed} "
          f"({r.acceptance_rate:.1%}); gamma: percentile {percentile:g} of F over {r.burn.n} burn-in samples "
          f"({r.burn.gamma:+.3f} at their maximum logit)", file=sys.stderr)
    print(f"accepted seeds: {format_seeds(r.seeds)}", file=sys.stderr)
    return r.images
