"""3D reconstruction IoU by latent-refinement steps and by input style, per class, with the time it takes.

    python bench/refine3d.py [--model M] [--objects 200] [--steps 0,10,25,50,100] [--styles shaded,lines,silhouette]
                             [--known-camera] [--threads 1] [--json out.json]

The test objects are `--objects` evenly spread over the ModelNet10 test split (so over its classes), each seen
from eval3d's seeded view (seed 0) drawn in each style; the threshold is the model's (chosen on training data by
`eval3d --write`). Refinement finds the camera from the picture as for a user's image; `--known-camera` gives it
eval3d's true camera instead (a diagnostic: what refinement could do with a perfect pose search). Times are wall
clock on this machine, per object, encoder + refinement (+ pose search), batches of 16 objects.

Measured (ms an object on the shared 2-core machine, one thread, busy with other jobs): see the docstring's
table in the commit that last changed it, and the report of issue 26.
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from gan_studio.engine.data import views
from gan_studio.engine.data.voxels import load_voxels
from gan_studio.engine.latent.voxel_refine import Camera, RefineSettings, refine_latents
from gan_studio.engine.metrics.iou import iou, per_class
from gan_studio.engine.reconstruction import VoxelModel


def _run(model: VoxelModel, data, params, style: str, steps: int, known: bool) -> tuple[torch.Tensor, float]:
    """(IoU per object, seconds per object)."""
    G, E, th = model.reconstruction_generator, model.encoder, model.threshold
    out, t0 = [], time.perf_counter()
    for i in range(0, len(data), 16):
        vox, p = data.voxels[i:i + 16], params.slice(i, i + 16)
        img = views.render_views(vox, p, model.image_size, style=style)
        with torch.no_grad():
            mean, logvar = E(img)
        if steps:
            cam = Camera(p.azimuth, p.elevation, torch.ones(len(vox)), torch.zeros(len(vox), 2)) if known else None
            mean, _ = refine_latents(G, mean, logvar, img, RefineSettings(steps=steps), th, cam)
        with torch.no_grad():
            out.append(iou(G(mean)[:, 0] > th, vox))
    return torch.cat(out), (time.perf_counter() - t0) / max(len(data), 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="modelnet10-iwgan")
    ap.add_argument("--data", default="../shared/data/modelnet10_vox32")
    ap.add_argument("--objects", type=int, default=200)
    ap.add_argument("--steps", default="0,10,25,50,100")
    ap.add_argument("--styles", default="shaded")
    ap.add_argument("--known-camera", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = VoxelModel.open(args.model)
    test = load_voxels(args.data, "test")
    pick = torch.linspace(0, len(test) - 1, min(args.objects, len(test))).round().long()
    params = views.random_params(len(test), torch.Generator().manual_seed(0))        # eval3d's cameras
    params = views.ViewParams(params.azimuth[pick], params.elevation[pick], params.light[pick], params.ambient[pick])
    data = test.subset(pick)
    rows = []
    for style in args.styles.split(","):
        for steps in (int(s) for s in args.steps.split(",")):
            ious, sec = _run(model, data, params, style, steps, args.known_camera)
            classes, class_mean = per_class(ious, data.labels, data.classes)
            row = {"style": style, "steps": steps, "known_camera": args.known_camera and steps > 0,
                   "mean_iou": round(float(ious.mean()), 4), "class_mean_iou": round(class_mean, 4),
                   "per_class": {k: round(v, 4) for k, v in classes.items()}, "ms_per_object": round(sec * 1000),
                   "n": len(data)}
            rows.append(row)
            print(f"{style:10s} refine {steps:3d}{' (known camera)' if row['known_camera'] else ''}: mean IoU "
                  f"{row['mean_iou']:.4f} (classes {row['class_mean_iou']:.4f}) {row['ms_per_object']} ms/object  "
                  + " ".join(f"{k[:5]} {v:.3f}" for k, v in row["per_class"].items()), flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"model": args.model, "objects": len(data), "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
