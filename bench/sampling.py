"""Sampling throughput and single-image latency of the shipped generators.

    python bench/sampling.py [--model M] [--threads T] [--repeats R]

Prints the median over repeats; throughput ratios are against batch size 1 in this same process, and
latency is split into mapping, synthesis and conversion to uint8 pixels (what the GUI paints).
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from gan_studio.engine.catalog import list_models, open_model
from gan_studio.engine.imaging import to_uint8
from gan_studio.engine.latent.sampling import generate, seeds_latents


def _median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_model(name: str, repeats: int) -> None:
    G = open_model(name).generator().eval()
    print(f"\n== {name}: {sum(p.numel() for p in G.parameters()):,} parameters, image {G.image_shape}")
    base = None
    for bs in (1, 16, 64, 256):
        z = seeds_latents(range(bs), G.z_dim)
        t = _median_time(lambda z=z, bs=bs: generate(G, z, batch_size=bs), repeats)
        rate = bs / t
        base = base or rate
        print(f"batch {bs:4d}: {rate:9.0f} images/s   ({rate / base:5.1f}x batch 1)")
    z = seeds_latents([7], G.z_dim)
    with torch.no_grad():
        t_map = _median_time(lambda: G.mapping(z), repeats * 10)
        ws = G.mapping(z)
        t_syn = _median_time(lambda: G.synthesis(ws), repeats * 10)
        img = G.synthesis(ws)
        t_px = _median_time(lambda: to_uint8(img), repeats * 10)
    total = _median_time(lambda: to_uint8(generate(G, z)), repeats * 10)
    print(f"single image: {total * 1e3:.2f} ms end to end (mapping {t_map * 1e3:.3f} ms, synthesis "
          f"{t_syn * 1e3:.2f} ms, to pixels {t_px * 1e3:.3f} ms)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", help="model name or path (default: every shipped generator)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    names = args.model or [str(e.path) for e in list_models() if e.shipped and e.kind == "image-generator"]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, median of {args.repeats} runs")
    for name in names:
        bench_model(name, args.repeats)


if __name__ == "__main__":
    main()
