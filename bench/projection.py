"""Projection (GAN inversion) quality on MNIST test digits, with each shipped 2-D generator and each space it has.

    python bench/projection.py [--n 500] [--steps 300] [--models mnist-wgan-gp,mnist-stylegan2]
                               [--features auto,pixels] [--batch 50] [--threads 1] [--baseline 10000]
                               [--data ../shared/data/mnist]

For the first N test digits (fitted to the model's 32 px as everywhere: padded with the background), every space
of every model (z for the DCGAN, whose w is its z; z, w and w+ for the StyleGAN2) and every --features choice:

- agree: the shipped LeNet classifier gives the reconstruction the digit's true label (the issue's target: >= 90 %;
  `lenet` in the header is its accuracy on the targets themselves, the ceiling). With --features auto the loss
  uses that LeNet's activations, so this is optimistic; the `pixels` rows use no network at all.
- PSNR (dB, the [-1, 1] range: 10 log10(4 / MSE)), mean over the digits; feat: the mean L2 distance of the
  reconstruction's lenet-mnist features (128-d, the FID feature space) from the target's.
- s/img: wall time per image, digits projected --batch at a time; 1-img s: one digit alone (what the CLI takes).
- baseline: the nearest (in pixels) of --baseline generated seeds 0, 1, ..., no optimisation.

Measured on the 2-core CPU machine, 2026-12-05, `python bench/projection.py --n 500 --models mnist-stylegan2
--features auto,pixels` (300 steps, batch 50, 1 thread; lenet accuracy on the 500 targets 98.6 %):

    model            method                      agree   PSNR   feat  s/img 1-img s
    mnist-stylegan2  z (auto)                    97.2%  25.17  3.892  1.132    4.00
    mnist-stylegan2  w (auto)                    97.2%  27.50  2.759  1.135    3.29
    mnist-stylegan2  w+ (auto)                   98.4%  33.75  0.766  1.117    3.35
    mnist-stylegan2  z (pixels)                  88.0%  24.49  7.297  0.804    2.57
    mnist-stylegan2  w (pixels)                  93.8%  27.05  5.052  0.780    2.42
    mnist-stylegan2  w+ (pixels)                 97.6%  34.41  1.161  0.805    2.55
    mnist-stylegan2  nearest of 10,000 seeds     87.0%  17.04 13.228  0.075       -

and for mnist-wgan-gp (z only; earlier run, same command with --models mnist-wgan-gp): agree 99 %, PSNR 26.96.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.data.images import load_images
from gan_studio.engine.latent.perceptual import fit_lenet, lenet_network
from gan_studio.engine.latent.projection import SPACES, check_space, project_image
from gan_studio.engine.latent.sampling import generate
from gan_studio.engine.metrics.features import get_extractor
from gan_studio.engine.paths import resources_dir
from gan_studio.engine.seeds import seeds_latents

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def scores(recon: torch.Tensor, target: torch.Tensor, labels: torch.Tensor) -> dict:
    net, feats = lenet_network(), get_extractor("lenet-mnist")
    with torch.no_grad():
        agree = (net(fit_lenet(recon)).argmax(1) == labels).double().mean().item()
    mse = (recon - target).square().flatten(1).mean(1).clamp_min(1e-10)
    fd = (feats(recon) - feats(target)).norm(dim=1).mean().item()
    return {"agree": agree, "psnr": (10 * torch.log10(4 / mse)).mean().item(), "feat": fd}


def nearest_seeds(G, target: torch.Tensor, count: int) -> torch.Tensor:
    """For each target, the generated image of the seeds 0..count-1 nearest in pixels."""
    best_d = torch.full((target.shape[0],), float("inf"))
    best = torch.zeros_like(target)
    t = target.flatten(1)
    for start in range(0, count, 1000):
        imgs = generate(G, seeds_latents(list(range(start, min(count, start + 1000))), G.z_dim))
        d = torch.cdist(t, imgs.flatten(1))                              # (N, chunk)
        v, i = d.min(1)
        better = v < best_d
        best_d[better], best[better] = v[better], imgs[i[better]]
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--models", default="mnist-wgan-gp,mnist-stylegan2")
    ap.add_argument("--features", default="auto", help="comma-separated: auto, lenet-mnist, critic, pixels")
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--baseline", type=int, default=10_000, help="generated seeds for the nearest-seed baseline")
    ap.add_argument("--data", default=str(DATA))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    ds = load_images(args.data, "test")
    rows = []
    for name in args.models.split(","):
        bundle = load_bundle(resources_dir() / f"{name}.safetensors")
        G, critic = bundle.generator().eval(), bundle.networks.get("critic")
        x = ds.as_float(G.img_resolution, G.img_channels, slice(0, args.n))
        y = ds.labels[:args.n]
        ceiling = scores(x, x, y)["agree"]
        print(f"{name}: {args.n} test digits, lenet accuracy on them {ceiling:.1%}", flush=True)
        spaces = [s for s in SPACES if s == "z" or G.num_ws > 1]
        for s in spaces:
            check_space(G, s)
        for feats in args.features.split(","):
            for space in spaces:
                t0, recon = time.perf_counter(), []
                for i in range(0, args.n, args.batch):
                    last = project_image(G, x[i:i + args.batch], space=space, steps=args.steps, features=feats,
                                         critic=critic)
                    recon.append(last.image)
                per_image = (time.perf_counter() - t0) / args.n
                t1 = time.perf_counter()
                project_image(G, x[:1], space=space, steps=args.steps, features=feats, critic=critic)
                single = time.perf_counter() - t1
                row = {"model": name, "method": f"{space} ({feats})", **scores(torch.cat(recon), x, y),
                       "s_img": per_image, "single": single}
                rows.append(row)
                print(_line(row), flush=True)
        t0 = time.perf_counter()
        base = nearest_seeds(G, x, args.baseline)
        row = {"model": name, "method": f"nearest of {args.baseline:,} seeds", **scores(base, x, y),
               "s_img": (time.perf_counter() - t0) / args.n, "single": None}
        rows.append(row)
        print(_line(row), flush=True)
    print(f"\nsteps {args.steps}, {args.n} digits, batch {args.batch}, {args.threads} thread(s)")
    print(f"{'model':16s} {'method':26s} {'agree':>6s} {'PSNR':>6s} {'feat':>6s} {'s/img':>6s} {'1-img s':>7s}")
    for r in rows:
        print(_line(r))


def _line(r: dict) -> str:
    single = f"{r['single']:7.2f}" if r["single"] is not None else f"{'-':>7s}"
    return (f"{r['model']:16s} {r['method']:26s} {r['agree']:6.1%} {r['psnr']:6.2f} {r['feat']:6.3f} "
            f"{r['s_img']:6.3f} {single}")


if __name__ == "__main__":
    main()
