"""iGAN-style painting on MNIST test digits, with each shipped 2-D generator: do the candidates obey the strokes?

    python bench/painting.py [--n 100] [--fraction 0.05] [--steps 100] [--starts 16] [--candidates 4]
                             [--models mnist-wgan-gp,mnist-stylegan2] [--threads 1] [--data ../shared/data/mnist]

Strokes: for each of the first N test digits (fitted to the model's 32 px, padded with the background as
everywhere), a `--fraction` of its pixels picked at random, half of them ink (> 0 in [-1, 1]) and half no ink,
with the digit's values there (a 5 % stroke of a 32 px digit: 51 pixels). Rows:

- random: a random sample (seed 10^6 + i) as it is; painted: the same sample with the strokes pasted on (the
  baseline: no optimisation; its masked error is 0 by construction, so only its label agreement is a test).
- paint: `paint` (--steps steps, --starts random starts, the default prior), the best candidate; `paint-all`
  the mean over its --candidates candidates.
- live: `LivePainter` (the canvas path) fed the strokes in 4 growing parts (25 %, 50 %, 75 %, 100 % of the
  stroked pixels), the best candidate after the last update; latency: the wall time of every update (strokes
  -> candidates), median, p95, and the first (cold) update's median.

Columns: stroke err, the masked MSE on the stroked pixels ([-1, 1] units); full err, the MSE on every pixel
against the whole digit (how much of the unseen digit the strokes recovered); agree, the shipped LeNet gives the
stroked digit's label.

Measured on this 2-core CPU (1 thread, defaults, 100 digits, 5 % strokes), shipped models: the best painted
candidate gets the stroked digit's label from the LeNet for about 76 % of digits, against about 10 % for the
strokes pasted onto a random sample (chance); the live canvas's stroke -> candidates latency had medians of
194-255 ms, under the 300 ms goal.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.data.images import load_images
from gan_studio.engine.latent.painting import DEFAULT_STARTS, DEFAULT_STEPS, Strokes, paint_candidates
from gan_studio.engine.latent.painting_live import LivePainter
from gan_studio.engine.latent.perceptual import fit_lenet, lenet_network
from gan_studio.engine.latent.sampling import generate
from gan_studio.engine.paths import resources_dir
from gan_studio.engine.seeds import seeds_latents

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def stroke_mask(digit: torch.Tensor, fraction: float, gen: torch.Generator) -> torch.Tensor:
    """(H, W) 0/1: `fraction` of the pixels, half ink and half no ink, in a random order (the order strokes come)."""
    h, w = digit.shape[-2:]
    k = max(2, round(fraction * h * w)) // 2
    gray = digit.mean(0).flatten()
    ink, bg = (gray > 0).nonzero()[:, 0], (gray <= 0).nonzero()[:, 0]
    pick = torch.cat([ink[torch.randperm(len(ink), generator=gen)[:k]], bg[torch.randperm(len(bg), generator=gen)[:k]]])
    return pick[torch.randperm(len(pick), generator=gen)]


def mask_of(idx: torch.Tensor, shape) -> torch.Tensor:
    m = torch.zeros(shape[-2] * shape[-1])
    m[idx] = 1
    return m.reshape(shape[-2:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--fraction", type=float, default=0.05)
    ap.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    ap.add_argument("--starts", type=int, default=DEFAULT_STARTS)
    ap.add_argument("--candidates", type=int, default=4)
    ap.add_argument("--models", default="mnist-wgan-gp,mnist-stylegan2")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", default=str(DATA))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    ds = load_images(args.data, "test")
    net = lenet_network()

    def label(img):
        with torch.no_grad():
            return net(fit_lenet(img)).argmax(1)

    for name in args.models.split(","):
        G = load_bundle(resources_dir() / f"{name}.safetensors").generator().eval()
        x = ds.as_float(G.img_resolution, G.img_channels, slice(0, args.n))
        y = ds.labels[:args.n]
        gen = torch.Generator().manual_seed(0)
        rows = {k: {"stroke": [], "full": [], "agree": []} for k in ("random", "painted", "paint", "paint-all", "live")}
        lat_cold, lat_warm, t_paint = [], [], 0.0
        rand = generate(G, seeds_latents(list(range(10**6, 10**6 + args.n)), G.z_dim))
        painter = LivePainter(G, n=args.candidates)
        for i in range(args.n):
            d, idx = x[i], stroke_mask(x[i], args.fraction, gen)
            m = mask_of(idx, d.shape)
            strokes = Strokes(d, m, name=f"digit {i}")

            def add(key, imgs, m=m, d=d, i=i, rows=rows, y=y):
                err = ((imgs - d).square() * m).sum((1, 2, 3)) / (m.sum() * d.shape[0])
                rows[key]["stroke"].append(err.mean().item())
                rows[key]["full"].append((imgs - d).square().flatten(1).mean(1).mean().item())
                rows[key]["agree"].append((label(imgs) == y[i]).double().mean().item())

            add("random", rand[i:i + 1])
            add("painted", torch.where(m.bool(), d, rand[i]).unsqueeze(0))
            t = time.perf_counter()
            last = paint_candidates(G, strokes, n=args.candidates, steps=args.steps, starts=args.starts, seed=i * 100)
            t_paint += time.perf_counter() - t
            add("paint", last.images[:1])
            add("paint-all", last.images)
            painter.reset()
            for part in range(1, 5):
                sub = mask_of(idx[:len(idx) * part // 4], d.shape)
                t = time.perf_counter()
                live = painter.update(Strokes(d, sub, name=f"digit {i}"))
                (lat_cold if part == 1 else lat_warm).append(time.perf_counter() - t)
            add("live", live.images[:1])
        print(f"\n{name}: {args.n} test digits, strokes {args.fraction:.0%} of the pixels "
              f"({int(m.sum())} px), paint {args.steps} steps x {args.starts} starts, {args.candidates} candidates")
        print(f"{'':10s} {'stroke err':>10s} {'full err':>9s} {'agree':>7s}")
        for k, r in rows.items():
            print(f"{k:10s} {statistics.mean(r['stroke']):10.4f} {statistics.mean(r['full']):9.4f} "
                  f"{statistics.mean(r['agree']):7.1%}")
        warm = sorted(lat_warm)
        p95 = warm[min(len(warm) - 1, int(0.95 * len(warm)))]
        print(f"paint: {t_paint / args.n:.2f} s per digit; live update latency (warm, {len(warm)} updates): median "
              f"{1000 * statistics.median(warm):.0f} ms, p95 {1000 * p95:.0f} ms; cold first update median "
              f"{1000 * statistics.median(lat_cold):.0f} ms")


if __name__ == "__main__":
    main()
