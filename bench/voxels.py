"""3D pipeline timings at 32³: image -> voxels -> mesh (goal <= 30 ms without rendering), and the renderer.

    python bench/voxels.py [--model M] [--threads T] [--repeats R] [--data PATH]

Prints medians over repeats (after one warm-up) of: image file -> encoder input, encoder + generator,
cubes and smooth meshes, and the training-view renderer in ms per view at 64² (batch 1 and 32) and 128².
Without --model it times a freshly initialised network with the shipped model's widths when none is
found. Real voxel grids come from --data (ModelNet10 32³) when present, else a synthetic table.
"""
from __future__ import annotations

import argparse
import io
import statistics
import time

import numpy as np
import torch

from gan_studio.engine.data import views
from gan_studio.engine.image_input import load_view
from gan_studio.engine.voxels_mesh import cubes_mesh, smooth_mesh

DEFAULT_WIDTHS = {"g_width": 16, "d_width": 16, "e_width": 32}


def _median_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def _model(name: str | None):
    from gan_studio.engine.bundle import Bundle
    from gan_studio.engine.models import build
    from gan_studio.engine.reconstruction import VoxelModel
    if name:
        return VoxelModel.open(name), name
    torch.manual_seed(0)
    nets = {r: build("voxel-iwgan", r, DEFAULT_WIDTHS) for r in ("generator", "encoder")}
    meta = {"kind": "voxel-model", "arch": "voxel-iwgan", "config": nets["generator"].cfg.to_dict()}
    return VoxelModel.from_bundle(Bundle(meta, nets)), f"untrained {DEFAULT_WIDTHS}"


def _grids(path: str | None, n: int = 32) -> torch.Tensor:
    try:
        from gan_studio.engine.data.voxels import load_voxels
        ds = load_voxels(path, "test")
        return ds.voxels[torch.linspace(0, len(ds) - 1, n).long()]
    except Exception:
        g = torch.zeros(n, 32, 32, 32, dtype=torch.uint8)
        g[:, 4:28, 4:28, 20:22] = 1
        g[:, 4:6, 4:6, :20] = g[:, 26:28, 26:28, :20] = 1
        return g


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--data", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, label = _model(args.model)
    grids = _grids(args.data)
    png = io.BytesIO()
    from PIL import Image
    Image.fromarray((views.render_voxels(grids[5], 30, 20, 128) * 255).astype(np.uint8)).save(png, "PNG")
    data = png.getvalue()
    view = load_view(data, model.image_size)
    probs = model.reconstruct(view)
    th = model.threshold
    t_img = _median_ms(lambda: load_view(data, model.image_size), args.repeats)
    t_net = _median_ms(lambda: model.reconstruct(view), args.repeats)
    t_cubes = _median_ms(lambda: cubes_mesh(probs, th), args.repeats)
    t_smooth = _median_ms(lambda: smooth_mesh(probs, th), args.repeats)
    print(f"model: {label}; torch threads {args.threads}; median of {args.repeats}")
    print(f"image (128² PNG) -> encoder input   {t_img:7.2f} ms")
    print(f"encoder + generator (32³)          {t_net:7.2f} ms")
    print(f"mesh: cubes (threshold + surface)  {t_cubes:7.2f} ms")
    print(f"mesh: smooth (flying edges)        {t_smooth:7.2f} ms")
    print(f"image -> voxels -> mesh            {t_img + t_net + t_cubes:7.2f} ms cubes, "
          f"{t_img + t_net + t_smooth:.2f} ms smooth")
    for size, n in ((64, 1), (64, 32), (128, 1)):
        p = views.fixed_params(n, 30, 20)
        ms = _median_ms(lambda n=n, p=p, size=size: views.render_views(grids[:n], p, size), args.repeats) / n
        print(f"renderer {size}² batch {n:2d}               {ms:7.2f} ms/view")


if __name__ == "__main__":
    main()
