"""FID, precision/recall, density/coverage and the class histogram of a generator with and without discriminator
rejection sampling, for each DRS calibration.

    python bench/drs_metrics.py --data ../shared/data/mnist [--model mnist-wgan-gp] [--n 2000]
                                [--percentiles 50,80,95] [--calibrations finetune,affine] [--steps 1000]

Plain: seeds 0..n-1 (as `gan-studio evaluate`). DRS: the first n seeds from 0 that DRS accepts (as
`gan-studio sample --drs --seed 0 --n N`). Each calibration is fitted on the train split and stored, as
`sample --drs --data --drs-calibration C` does (set GAN_STUDIO_HOME to keep them apart from yours); the metrics
use the first n images of the test split. "classes" counts the shipped LeNet's predicted digit 0..9.
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from gan_studio.engine.catalog import open_model
from gan_studio.engine.data import load_images
from gan_studio.engine.latent.drs import drs_sample
from gan_studio.engine.latent.drs_calibration import critic_of, resolve_calibration
from gan_studio.engine.latent.sampling import generate, seeds_latents
from gan_studio.engine.metrics.features import get_extractor
from gan_studio.engine.metrics.fid import fid_from_features
from gan_studio.engine.metrics.prdc import density_coverage, precision_recall


def scores(real: torch.Tensor, fake: torch.Tensor) -> dict:
    p, r = precision_recall(real, fake, k=3)
    d, c = density_coverage(real, fake, k=5)
    return {"fid": round(fid_from_features(real, fake), 3), "precision": round(p, 4), "recall": round(r, 4),
            "density": round(d, 4), "coverage": round(c, 4)}


@torch.no_grad()
def classes(extractor, images: torch.Tensor) -> list[int]:
    pred = torch.cat([extractor.net(images[i:i + 500]).argmax(1) for i in range(0, len(images), 500)])
    return torch.bincount(pred, minlength=10).tolist()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="mnist-wgan-gp")
    ap.add_argument("--data", required=True)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--percentiles", default="50,80,95", help="comma-separated DRS percentiles")
    ap.add_argument("--calibrations", default="finetune,affine", help="comma-separated: finetune, affine")
    ap.add_argument("--steps", type=int, default=None, help="fine-tuning steps (default: the engine's)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    bundle = open_model(args.model)
    G, critic = bundle.generator().eval(), critic_of(bundle)
    extractor = get_extractor("lenet-mnist")
    test = load_images(args.data, "test").as_float(index=slice(0, args.n))
    real = extractor(test)
    plain = generate(G, seeds_latents(range(args.n), G.z_dim))
    rows = [{"sampling": "real test", "classes": classes(extractor, test)},
            {"sampling": "plain", **scores(real, extractor(plain)), "classes": classes(extractor, plain)}]
    for method in args.calibrations.split(","):
        t, cpu = time.perf_counter(), time.process_time()
        cal = resolve_calibration(bundle, G, critic, args.data, method=method, steps=args.steps)
        print(f"{method} ({time.perf_counter() - t:.0f} s wall, {time.process_time() - cpu:.0f} s CPU): "
              f"{cal.describe()}", flush=True)
        for pct in (float(p) for p in args.percentiles.split(",")):
            t = time.perf_counter()
            r = drs_sample(G, critic, cal, seed=0, n=args.n, percentile=pct)
            rows.append({"sampling": f"DRS {method} P{pct:g}", **scores(real, extractor(r.images)),
                         "acceptance": round(r.acceptance_rate, 4), "candidates": r.candidates,
                         "seconds": round(time.perf_counter() - t, 1), "classes": classes(extractor, r.images)})
            print(json.dumps(rows[-1]), flush=True)
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
