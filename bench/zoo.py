"""The MNIST results table of the loss zoo: one generator architecture, one wall-clock budget per run.

    python bench/zoo.py --data ../shared/data/mnist [--minutes 15] [--jobs 2] [--n 5000] [--out docs/RESULTS.md]

Trains a DCGAN (width 32, z 64, 28 px, batch 64, seed 0, one CPU thread per run) with each of: vanilla
(minimax), the non-saturating GAN, WGAN (weight clipping), WGAN-GP, R1 (the non-saturating loss + R1, gamma 10),
LSGAN and hinge — each for the same budget of its own CPU time (one thread: the wall-clock time it would take on an
idle core, and unlike wall-clock it does not depend on what else the machine runs) — then evaluates every generator
(EMA weights, as the app samples them)
against the MNIST test split in the lenet-mnist features: FID, precision/recall (k 3), density/coverage (k 5),
plain and, for vanilla / NS / WGAN / WGAN-GP / R1, with discriminator rejection sampling (`sample --drs`: the first
n accepted seeds from 0, the critic calibrated on the train split). Writes the table to --out (markdown) and
the rows to the same name with .json. `--jobs 2` trains two runs side by side (both under the same load).
Models go to --work (default runs/zoo); an existing model there is reused, not retrained, unless --retrain.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

RUNS = [  # name, loss, reg, DRS evaluated too
    ("vanilla", "vanilla", None, True),
    ("ns", "ns", None, True),                 # what most reports call "vanilla": the non-saturating trick
    ("wgan", "wgan", None, True),
    ("wgan-gp", "wgan-gp", None, True),
    ("r1", "ns", "r1", True),
    ("lsgan", "lsgan", None, False),
    ("hinge", "hinge", None, False),
]
ARCH = {"width": 32, "z_dim": 64, "img_resolution": 28}
REFERENCE = {"vanilla": 38, "wgan-gp": 16, "wgan-gp + DRS": 15, "r1": 42}   # pytorch-fid Inception, a course report


def _train(name: str, loss: str, reg: str | None, data: str, minutes: float, work: str, retrain: bool) -> dict:
    from gan_studio.engine.bundle import load_bundle
    from gan_studio.engine.training.loop import TrainConfig, train
    torch.set_num_threads(1)
    out = Path(work) / f"{name}.safetensors"
    if out.exists() and not retrain:
        t = load_bundle(out).meta["training"]
        return {"name": name, "path": str(out), "steps": t["step"], "seconds": t["seconds"], "reused": True}
    out.unlink(missing_ok=True)
    cfg = TrainConfig(data=data, arch="dcgan", arch_config=dict(ARCH), loss=loss, reg=reg,
                      reg_weight=10.0 if reg == "r1" else None, steps=10_000_000, batch=64, seed=0,
                      checkpoint_every=10_000_000, sample_every=10_000_000, max_minutes=minutes, threads=1)
    command = (f"python bench/zoo.py --data {data} --minutes {minutes:g}  # run {name}: --loss {loss}"
               + (f" --reg {reg}" if reg else ""))
    last = None
    for p in train(cfg, out, command=command, clock=time.process_time):   # the budget is CPU time
        last = p
    return {"name": name, "path": str(out), "steps": last.step, "seconds": round(last.elapsed, 1), "reused": False}


def _scores(real: torch.Tensor, fake: torch.Tensor) -> dict:
    from gan_studio.engine.metrics.fid import fid_from_features
    from gan_studio.engine.metrics.prdc import density_coverage, precision_recall
    p, r = precision_recall(real, fake, k=3)
    d, c = density_coverage(real, fake, k=5)
    return {"fid": fid_from_features(real, fake), "precision": p, "recall": r, "density": d, "coverage": c}


def _evaluate(run: dict, drs: bool, real: torch.Tensor, extractor, data: str, n: int) -> list[dict]:
    from gan_studio.engine.catalog import open_model
    from gan_studio.engine.latent.sampling import generate, seeds_latents
    bundle = open_model(run["path"])
    G = bundle.generator().eval()
    rows = [dict(run, sampling="plain", **_scores(real, extractor(generate(G, seeds_latents(range(n), G.z_dim)))))]
    if drs:
        from gan_studio.engine.latent.drs import drs_sample
        from gan_studio.engine.latent.drs_calibration import critic_of, resolve_calibration
        critic = critic_of(bundle)
        cal = resolve_calibration(bundle, G, critic, data)
        r = drs_sample(G, critic, cal, seed=0, n=n)
        rows.append(dict(run, sampling="DRS", acceptance=r.acceptance_rate, calibration=cal.describe(),
                         **_scores(real, extractor(r.images))))
    return rows


def _markdown(rows: list[dict], args, wall: float) -> str:
    lines = [
        "# The loss zoo on MNIST", "",
        f"Written by `python bench/zoo.py --data {args.data} --minutes {args.minutes:g} --jobs {args.jobs} "
        f"--n {args.n}` ({time.strftime('%Y-%m-%d')}, {wall / 60:.0f} min in all).", "",
        f"- **Budget:** every run trains for the same time, **{args.minutes:g} minutes of its own CPU time on one "
        f"thread** ({platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}; "
        f"{args.jobs} run(s) side by side) — the wall-clock time each would take alone on an idle core. CPU time "
        "rather than wall-clock, because other work on the machine would otherwise decide how many steps a run gets.",
        "- **Generator:** DCGAN, width 32, z 64, 28 px, batch 64, seed 0, the loss's own optimiser and defaults; "
        "evaluated with its EMA weights.",
        f"- **Metrics:** lenet-mnist features against the first {args.n} MNIST test images; {args.n} generated "
        "images (seeds 0… or, with DRS, the first accepted seeds from 0). FID, precision/recall (k 3), "
        "density/coverage (k 5).", "",
        "| run | sampling | generator steps | FID ↓ | precision ↑ | recall ↑ | density ↑ | coverage ↑ "
        "| DRS acceptance |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        acc = f"{r['acceptance']:.1%}" if "acceptance" in r else ""
        lines.append(f"| {r['name']} | {r['sampling']} | {r['steps']:,} | {r['fid']:.1f} | {r['precision']:.3f} | "
                     f"{r['recall']:.3f} | {r['density']:.3f} | {r['coverage']:.3f} | {acc} |")
    ours = {(r["name"] + (" + DRS" if r["sampling"] == "DRS" else "")): r["fid"] for r in rows}
    ref_order = sorted(REFERENCE, key=REFERENCE.get)
    our_order = sorted((k for k in REFERENCE if k in ours), key=ours.get)
    lines += ["", "## Against the reference ordering", "",
              "The reference table (a course report, pytorch-fid Inception features — so compare the ordering, not "
              "the values): " + ", ".join(f"{k} {v}" for k, v in REFERENCE.items()) + ".", "",
              f"- reference, best to worst FID: {' < '.join(ref_order)}",
              f"- here: {' < '.join(f'{k} ({ours[k]:.1f})' for k in our_order)}",
              f"- same ordering: **{'yes' if our_order == ref_order else 'no'}**", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--work", default="runs/zoo")
    ap.add_argument("--out", default="docs/RESULTS.md")
    ap.add_argument("--only", default=None, help="comma-separated run names")
    ap.add_argument("--retrain", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    Path(args.work).mkdir(parents=True, exist_ok=True)
    runs = [r for r in RUNS if not args.only or r[0] in args.only.split(",")]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(_train, name, loss, reg, args.data, args.minutes, args.work, args.retrain)
                   for name, loss, reg, _ in runs]
        trained = [f.result() for f in futures]
    for t in trained:
        print(f"trained {t['name']}: {t['steps']} steps in {t['seconds']} s" + (" (reused)" if t["reused"] else ""),
              file=sys.stderr)
    from gan_studio.engine.data import load_images
    from gan_studio.engine.metrics.features import get_extractor
    torch.set_num_threads(max(1, args.jobs))
    extractor = get_extractor("lenet-mnist")
    real = extractor(load_images(args.data, "test").as_float(index=slice(0, args.n)))
    rows = []
    for t, (_, _, _, drs) in zip(trained, runs):
        for row in _evaluate(t, drs, real, extractor, args.data, args.n):
            rows.append(row)
            print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(_markdown(rows, args, time.perf_counter() - t0))
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
