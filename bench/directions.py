"""Direction discovery on the shipped MNIST generator: RCA versus wall time for Voynov's method (the
paper preset and our fast preset), and the RCA table of all five methods under one fixed budget.

    python bench/directions.py [--model M] [--k 32] [--minutes 10] [--snapshots 1,2.5,5,10] [--threads 2]

RCA: a fresh reconstructor trained for a fixed budget (see RCABudget.describe) to tell which direction
moved an image pair, scored on 3,000 held-out pairs — the same budget for every method.
"""
from __future__ import annotations

import argparse
import time

import torch

from gan_studio.engine.bundle import weights_hash
from gan_studio.engine.catalog import open_model
from gan_studio.engine.latent.directions import discover
from gan_studio.engine.latent.directions.voynov import VoynovTrainer
from gan_studio.engine.metrics.rca import RCABudget, rca


def voynov_curve(G, preset: str, k: int, snapshots: list[float], seed: int) -> list[tuple[float, int, float, float]]:
    """Train for max(snapshots) minutes; RCA of the directions at each snapshot time."""
    tr = VoynovTrainer(G, preset, steps=10**9, seed=seed, k=k)
    out, pending = [], sorted(snapshots)
    for p in tr.run():
        if pending and p["elapsed"] >= pending[0] * 60:
            ds = tr.result(weights_hash(G))
            out.append((pending.pop(0), p["step"], p["accuracy"], ds))
        if not pending:
            break
    return [(m, step, acc, rca(G, ds, seed=seed)["rca"]) for m, step, acc, ds in out]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="mnist-wgan-gp")
    ap.add_argument("--k", type=int, default=32)
    ap.add_argument("--snapshots", default="1,2.5,5,10", help="minutes of discovery at which to measure RCA")
    ap.add_argument("--presets", default="paper,fast")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    G = open_model(args.model).generator().eval()
    snaps = [float(s) for s in args.snapshots.split(",")]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; K = {args.k}; RCA budget: "
          f"{RCABudget().describe()}")
    print("\nVoynov: RCA versus discovery wall time")
    print(f"{'preset':8s} {'minutes':>8s} {'steps':>7s} {'train acc':>9s} {'RCA':>6s}")
    best = {}
    for preset in args.presets.split(","):
        for minutes, step, acc, score in voynov_curve(G, preset, args.k, snaps, args.seed):
            print(f"{preset:8s} {minutes:8.1f} {step:7d} {acc:9.3f} {score:6.3f}", flush=True)
            best[preset] = (minutes, score)
    print("\nAll methods (Voynov: the fast preset at the last snapshot)")
    print(f"{'method':12s} {'discovery s':>11s} {'RCA':>6s}")
    if "fast" in best:
        print(f"{'voynov':12s} {best['fast'][0] * 60:11.0f} {best['fast'][1]:6.3f}")
    for method in ("ganspace", "sefa", "random", "coordinate"):
        t = time.perf_counter()
        ds = list(discover(G, method, args.k, seed=args.seed))[-1]["result"]
        secs = time.perf_counter() - t
        print(f"{method:12s} {secs:11.1f} {rca(G, ds, seed=args.seed)['rca']:6.3f}", flush=True)


if __name__ == "__main__":
    main()
