"""The MNIST results table of the loss zoo: one generator architecture, one wall-clock budget per run.

    python bench/zoo.py --data ../shared/data/mnist [--minutes 15] [--jobs 2] [--n 5000] [--out docs/RESULTS.md]

Trains a DCGAN (width 32, z 64, 28 px, batch 64, seed 0, one CPU thread per run) with each of: vanilla
(minimax), the non-saturating GAN, WGAN (weight clipping), WGAN-GP, R1 (the non-saturating loss + R1, gamma 10),
LSGAN and hinge, and issue 24's five families on their own architectures at the same 28 px (FAMILIES: ProGAN,
LAPGAN, EBGAN, BEGAN, MRGAN; `--only progan,lapgan,ebgan,began,mrgan` trains just those) — each for the same
budget of its own CPU time (one thread: the wall-clock time it would take on an idle core, and unlike wall-clock it
does not depend on what else the machine runs) — then evaluates every generator (EMA weights, as the app samples them)
against the MNIST test split in the lenet-mnist features: FID, precision/recall (k 3), density/coverage (k 5), the
digit classes lenet-mnist's classifier gives the samples (classes with >= 1 %, entropy), CPU seconds per step,
plain and, for vanilla / NS / WGAN / WGAN-GP / R1, with discriminator rejection sampling (`sample --drs`: the first
n accepted seeds from 0, the critic calibrated on the train split). Writes the table to --out (markdown) and
the rows to the same name with .json (with --only, the other runs' rows of a previous .json there are kept, marked
"carried"). `--jobs 2` trains two runs side by side (both under the same load).
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
from results_md import replace_section

RUNS = [  # name, loss, reg, DRS evaluated too
    ("vanilla", "vanilla", None, True),
    ("ns", "ns", None, True),                 # what most reports call "vanilla": the non-saturating trick
    ("wgan", "wgan", None, True),
    ("wgan-gp", "wgan-gp", None, True),
    ("r1", "ns", "r1", True),
    ("lsgan", "lsgan", None, False),
    ("hinge", "hinge", None, False),
    ("progan", "wgan-gp", None, False),       # issue 24's five families: their own architectures (FAMILIES)
    ("lapgan", "ns", None, False),
    ("ebgan", "ebgan", None, False),
    ("began", "began", None, False),
    ("mrgan", "mrgan", None, False),
]
ARCH = {"width": 32, "z_dim": 64, "img_resolution": 28}
# name -> (arch, arch config, --options), every one at the zoo's 28 px. ProGAN grows 4 -> 7 -> 14 -> 28 in 300-step
# phases (full 28 px from step 2,100) with half its default channels (channel_base 512: 64, 64, 36, 18). Measured on
# one thread, batch 64: 0.06 / 0.19 / 0.53 / 1.14 s a step at 4 / 7 / 14 / 28 px (1.8 s at 28 px with
# channel_base 1024), so it reaches full 28 px after about 13 CPU-minutes: give it --minutes 20 or more.
FAMILIES = {
    "progan": ("progan", {"z_dim": 64, "channel_base": 512, "channel_max": 64, "img_resolution": 28},
               {"fade_steps": 300, "stable_steps": 300}),
    "lapgan": ("lapgan", {"w_dim": 32, "width": 32, "mlp_width": 300, "img_resolution": 28}, {}),
    "ebgan": ("dcgan-ae", dict(ARCH), {}),
    # BEGAN with the paper's networks (style began-nn, batch 16) and without a diversity term collapsed to one digit
    # class (FID 1,664); a DCGAN auto-encoder critic as EBGAN's, lr 2e-4 and EBGAN's pull-away term 0.1 on the
    # generator keeps all ten (10 CPU minutes, n 2,000: without the term 3 classes, FID 1,333; with it 10, FID 253)
    "began": ("dcgan-ae", dict(ARCH, style="dcgan", z_dist="normal"), {"pull_away": 0.1}),
    "mrgan": ("dcgan-enc", dict(ARCH), {}),
}
LR = {"began": 2e-4}        # a run's learning rate when not its loss's default
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
    arch, arch_config, options = FAMILIES.get(name, ("dcgan", ARCH, {}))
    cfg = TrainConfig(data=data, arch=arch, arch_config=dict(arch_config), loss=loss, reg=reg,
                      reg_weight=10.0 if reg == "r1" else None, steps=10_000_000, batch=64, seed=0,
                      lr=LR.get(name),
                      checkpoint_every=10_000_000, sample_every=10_000_000, max_minutes=minutes, threads=1,
                      options=dict(options))
    command = (f"python bench/zoo.py --data {data} --minutes {minutes:g}  # run {name}: --arch {arch} --loss {loss}"
               + (f" --reg {reg}" if reg else "") + f" --batch {cfg.batch}" + (f" --lr {cfg.lr:g}" if cfg.lr else "")
               + (f" --arch-config '{json.dumps(arch_config)}'" if arch != "dcgan" else "")
               + (f" --options '{json.dumps(options)}'" if options else ""))
    last = None
    for p in train(cfg, out, command=command, clock=time.process_time):   # the budget is CPU time
        last = p
    return {"name": name, "path": str(out), "steps": last.step, "seconds": round(last.elapsed, 1), "reused": False}


def _scores(real: torch.Tensor, images: torch.Tensor, extractor) -> dict:
    """FID, precision/recall, density/coverage in the extractor's features, and the digit classes the extractor's
    own classifier (lenet-mnist's head) gives the images: classes with >= 1 % of them, and the labels' entropy."""
    from gan_studio.engine.data.images import fit_images
    from gan_studio.engine.metrics.fid import fid_from_features
    from gan_studio.engine.metrics.prdc import density_coverage, precision_recall
    fake = extractor(images)
    p, r = precision_recall(real, fake, k=3)
    d, c = density_coverage(real, fake, k=5)
    with torch.no_grad():
        labels = torch.cat([extractor.net(fit_images(images[i:i + 500].float(), 28, 1)).argmax(1)
                            for i in range(0, len(images), 500)])
    share = torch.bincount(labels, minlength=10).double() / max(len(labels), 1)
    entropy = float(-(share[share > 0] * share[share > 0].log()).sum())
    return {"fid": fid_from_features(real, fake), "precision": p, "recall": r, "density": d, "coverage": c,
            "classes": int((share >= 0.01).sum()), "class_entropy": entropy}


def _evaluate(run: dict, drs: bool, real: torch.Tensor, extractor, data: str, n: int) -> list[dict]:
    from gan_studio.engine.catalog import open_model
    from gan_studio.engine.latent.sampling import generate, seeds_latents
    bundle = open_model(run["path"])
    G = bundle.generator().eval()
    rows = [dict(run, sampling="plain", **_scores(real, generate(G, seeds_latents(range(n), G.z_dim)), extractor))]
    if drs:
        from gan_studio.engine.latent.drs import drs_sample
        from gan_studio.engine.latent.drs_calibration import critic_of, resolve_calibration
        critic = critic_of(bundle)
        cal = resolve_calibration(bundle, G, critic, data)
        r = drs_sample(G, critic, cal, seed=0, n=n)
        rows.append(dict(run, sampling="DRS", acceptance=r.acceptance_rate, calibration=cal.describe(),
                         **_scores(real, r.images, extractor)))
    return rows


def _carried(out: Path, trained: list[str]) -> list[dict]:
    """With --only: the rows of --out's .json (a previous run of this file) whose runs were not trained now, so
    re-running one family keeps the others' rows (marked `carried`)."""
    old = out.with_suffix(".json")
    if not old.is_file():
        return []
    return [dict(r, carried=True) for r in json.loads(old.read_text()) if r["name"] not in trained]


def _run_index(name: str) -> int:
    """A run's place in the table (RUNS' order; unknown names last)."""
    return next((i for i, (n, *_rest) in enumerate(RUNS) if n == name), len(RUNS))


def _in_order(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (_run_index(r["name"]), r["sampling"] != "plain"))


def _markdown(rows: list[dict], args, wall: float) -> str:
    carried = sorted({r["name"] for r in rows if r.get("carried")}, key=_run_index)
    lines = [
        "# The loss zoo on MNIST", "",
        f"Written by `python bench/zoo.py --data {args.data} --minutes {args.minutes:g} --jobs {args.jobs} "
        f"--n {args.n}" + (f" --only {args.only}" if args.only else "") + f" --out {args.out}` "
        f"({time.strftime('%Y-%m-%d')}, {wall / 60:.0f} min in all)."
        + (f" Rows of {', '.join(carried)}: kept from this file's previous run (its .json), not re-run."
           if carried else ""), "",
        f"- **Budget:** every run trains for the same time, **{args.minutes:g} minutes of its own CPU time on one "
        f"thread** ({platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}; "
        f"{args.jobs} run(s) side by side) — the wall-clock time each would take alone on an idle core. CPU time "
        "rather than wall-clock, because other work on the machine would otherwise decide how many steps a run gets.",
        "- **Generator:** DCGAN, width 32, z 64, 28 px, batch 64, seed 0, the loss's own optimiser and defaults; "
        "evaluated with its EMA weights (the loss zoo's runs; the families' below).",
        f"- **Metrics:** lenet-mnist features against the first {args.n} MNIST test images; {args.n} generated "
        "images (seeds 0… or, with DRS, the first accepted seeds from 0). FID, precision/recall (k 3), "
        "density/coverage (k 5).", "",
        "- **Issue 24's families** (their own architectures at the same 28 px, `FAMILIES` in bench/zoo.py): ProGAN "
        "(4 → 7 → 14 → 28 in 300-step phases, WGAN-GP + drift), LAPGAN (7 → 14 → 28, NS loss per level), EBGAN and "
        "BEGAN (DCGAN generator, auto-encoder critic), MRGAN (DCGAN + encoder, λ 0.2 / 0.4); only ProGAN of them keeps "
        "an EMA generator (0.999), the others sample their generator itself. Classes: the labels "
        "lenet-mnist's own classifier head gives the generated images — digits with ≥ 1 % of them, and the labels' "
        "entropy in nats (uniform over 10 digits: 2.303). s / step: the run's CPU seconds per generator step.", "",
        "| run | sampling | generator steps | s / step | FID ↓ | precision ↑ | recall ↑ | density ↑ | coverage ↑ "
        "| classes ≥ 1 % | class entropy | DRS acceptance |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        acc = f"{r['acceptance']:.1%}" if "acceptance" in r else ""
        lines.append(f"| {r['name']} | {r['sampling']} | {r['steps']:,} | {r['seconds'] / max(r['steps'], 1):.3f} | "
                     f"{r['fid']:.1f} | {r['precision']:.3f} | {r['recall']:.3f} | {r['density']:.3f} | "
                     f"{r['coverage']:.3f} | {r['classes']} | {max(r['class_entropy'], 0.0):.3f} | {acc} |")
    ours = {(r["name"] + (" + DRS" if r["sampling"] == "DRS" else "")): r["fid"] for r in rows}
    ref_order = sorted(REFERENCE, key=REFERENCE.get)
    our_order = sorted((k for k in REFERENCE if k in ours), key=ours.get)
    if not our_order:                       # e.g. --only the families: nothing of the reference table was run
        return "\n".join(lines + [""])
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
    if args.only:
        rows = _in_order(rows + _carried(out, [t["name"] for t in trained]))
    out.parent.mkdir(parents=True, exist_ok=True)
    replace_section(out, _markdown(rows, args, time.perf_counter() - t0))    # the other benches' sections stay
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
