"""Direction discovery at its defaults, and how fast and stable RCA is.

    python bench/directions.py [--model mnist-wgan-gp] [--k 32] [--threads 2] [--presets wide,lenet4,fast]
                               [--snapshots 1,2,3,4,5] [--minutes 8] [--seeds 0,1,2] [--protocols fast,lenet4]
                               [--full]

1. Discovery: for each preset ("wide" is the first release's default, 3,000 steps; "lenet4" the second
   release's, "fast" the current default, both stop by themselves when converged), train with the preset's
   own step limit (at most --minutes), print the running accuracy at 60/120/240/480 s, the RCA (protocol
   fast) of the directions at each snapshot minute and at the end, the time to RCA >= 0.9 (the first
   snapshot reaching it) and how the run ended.
   RCA is measured after training, outside the timed discovery.
2. RCA: the wall time of each of --protocols (and with --full, protocol full, about 12 minutes a method on a
   2-core CPU) on the same directions files — the directions found above, GANSpace, SeFa, random and
   coordinate — with the spread over --seeds and the ranking of the methods under each protocol.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from gan_studio.engine.bundle import weights_hash
from gan_studio.engine.catalog import open_model
from gan_studio.engine.latent.directions import discover
from gan_studio.engine.latent.directions.voynov import VoynovTrainer
from gan_studio.engine.metrics.rca import BUDGETS, rca

MARKS = (60, 120, 240, 480)


def discovery(G, preset: str, k: int, snapshots: list[float], minutes: float, seed: int) -> dict:
    tr = VoynovTrainer(G, preset, seed=seed, k=k)
    marks, pending, snaps, t0 = list(MARKS), sorted(snapshots), [], time.perf_counter()
    for p in tr.run():
        wall = time.perf_counter() - t0
        while marks and wall >= marks[0]:
            print(f"  {preset:6s} {marks.pop(0):4d} s  step {p['step']:6d}  running accuracy {p['accuracy']:.3f}",
                  flush=True)
        if pending and wall >= pending[0] * 60:
            snaps.append((pending.pop(0), p["step"], tr.result(weights_hash(G))))
        if wall >= minutes * 60:
            break
    wall = time.perf_counter() - t0
    final = tr.result(weights_hash(G))
    status = tr.status if tr.status != "running" else "cut at --minutes"
    return {"preset": preset, "snaps": snaps, "final": final, "wall": wall, "steps": tr.step, "status": status,
            "accuracy": final.extra["train_accuracy"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="mnist-wgan-gp")
    ap.add_argument("--k", type=int, default=32)
    ap.add_argument("--presets", default="wide,lenet4,fast")
    ap.add_argument("--protocols", default="fast,lenet4", help="RCA protocols of part 2 (see rca.BUDGETS)")
    ap.add_argument("--snapshots", default="1,2,3,4,5", help="minutes of discovery at which RCA is measured")
    ap.add_argument("--minutes", type=float, default=8.0, help="cut a discovery run here")
    ap.add_argument("--seeds", default="0,1,2", help="RCA seeds (the spread of protocol fast)")
    ap.add_argument("--full", action="store_true", help="also protocol full (slow: about 12 min per method)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    G = open_model(args.model).generator().eval()
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"{args.model}, K {args.k}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"RCA protocol fast: {BUDGETS['fast'].describe()}")

    print("\n1. Discovery at each preset's defaults")
    runs = [discovery(G, p, args.k, [float(s) for s in args.snapshots.split(",")], args.minutes, 0)
            for p in args.presets.split(",")]
    print(f"\n{'preset':6s} {'min':>5s} {'steps':>6s} {'RCA':>6s}")
    summary = []
    for r in runs:
        to_09 = None
        for minutes, step, ds in r["snaps"]:
            score = rca(G, ds)["rca"]
            to_09 = to_09 if to_09 is not None or score < 0.9 else minutes
            print(f"{r['preset']:6s} {minutes:5.1f} {step:6d} {score:6.3f}", flush=True)
        r["rca"] = rca(G, r["final"])["rca"]
        to_09 = to_09 if to_09 is not None or r["rca"] < 0.9 else r["wall"] / 60
        print(f"{r['preset']:6s} {r['wall'] / 60:5.1f} {r['steps']:6d} {r['rca']:6.3f}  <- the end: {r['status']}")
        summary.append((r["preset"], r["wall"], r["steps"], r["status"], r["accuracy"], r["rca"], to_09))
    print(f"\n{'preset':6s} {'wall s':>7s} {'steps':>6s} {'steps/s':>7s} {'status':>14s} {'train acc':>9s} "
          f"{'RCA':>6s} {'to RCA 0.9':>10s}")
    for preset, wall, steps, status, acc, score, to_09 in summary:
        t = f"{to_09:.1f} min" if to_09 is not None else "not reached"
        print(f"{preset:6s} {wall:7.0f} {steps:6d} {steps / wall:7.1f} {status:>14s} {acc:9.3f} {score:6.3f} "
              f"{t:>10s}")

    print("\n2. RCA protocols on the same directions files")
    files = {f"voynov ({r['preset']})": r["final"] for r in runs}
    for method in ("ganspace", "sefa", "random", "coordinate"):
        files[method] = list(discover(G, method, args.k))[-1]["result"]
    protocols = args.protocols.split(",") + (["full"] if args.full else [])
    scores: dict[str, dict[str, float]] = {p: {} for p in protocols}
    print(f"{'directions':16s} {'protocol':8s} {'RCA (seeds)':>24s} {'spread':>7s} {'median s':>8s}")
    for name, ds in files.items():
        for proto in protocols:
            vals, secs = [], []
            for seed in (seeds if proto != "full" else seeds[:1]):
                t = time.perf_counter()
                vals.append(rca(G, ds, BUDGETS[proto], seed=seed)["rca"])
                secs.append(time.perf_counter() - t)
            scores[proto][name] = statistics.mean(vals)
            print(f"{name:16s} {proto:8s} {' '.join(f'{v:.3f}' for v in vals):>24s} {max(vals) - min(vals):7.3f} "
                  f"{statistics.median(secs):8.1f}", flush=True)
    for proto in protocols:
        order = sorted(scores[proto], key=scores[proto].get, reverse=True)
        print(f"ranking, protocol {proto}: " + " > ".join(f"{n} {scores[proto][n]:.3f}" for n in order))


if __name__ == "__main__":
    main()
