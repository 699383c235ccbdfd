"""How far single-view reconstruction IoU on ModelNet10 can go: the model's IoU beside oracles that know the answer.

    python bench/iou_ceiling3d.py [--model modelnet10-iwgan] [--data ../shared/data/modelnet10_vox32] [--threads 2]

Per class and overall, for eval3d's views (one seeded view per test object, seed 0, the model's threshold):
  model         the model's reconstruction IoU (what eval3d reports)
  train         the same on 600 spread training objects (a gap to `model` would be overfitting)
  shift oracle  the reconstruction moved by the best of the 27 shifts of up to 1 voxel (knowing the true shape)
  rot oracle    the reconstruction turned by the best of 4 quarter turns about the up axis (pose errors)
  retrieval     the best single training object for each test object (knowing the true shape): what a perfect
                lookup into the training set would score; `knn` the voxel vote of the 10 training objects whose
                encoded views are nearest the test view's latent (a lookup that does not know the answer)
  4 views       not an oracle: the posterior means of 4 seeded views of each object (seeds 0-3, eval3d's first)
                averaged and decoded: what several pictures of one object would give without new training
  verified      analysis by synthesis: the model's shape and the 32 training objects nearest the view's latent,
                each rendered at the picture's TRUE camera and light (an oracle for the pose only), and the one
                whose rendering is nearest the picture (mean absolute pixel difference) is the answer;
                `top-32 oracle` the best of those 32 training objects knowing the true shape (its ceiling)

Found (shipped model, step 27,300; about 2 min on 2 threads): model 0.500, train 0.517, shift oracle 0.536, rot
oracle 0.506, retrieval 0.652 (chair 0.48, desk 0.46, bathtub 0.47, table 0.53), knn 0.43, 4 views 0.527 (2
views 0.514, 3 views 0.523; chair 0.34, desk 0.31, bathtub 0.35, table 0.36; averaging the 4 decoded probability
grids instead: 0.526, precision-weighted latents 0.525). The encoder and decoder do not overfit, pose and
placement explain little, more pictures of the same object add little (the encoder says much the same from each
view), and the issue's bar (mean 0.6, thin classes 0.45) is near what the best-matching training object scores with
the answer known.
Verified by rendering (2026-12-08; about 1 min on 2 threads): 0.516 against the model's 0.500 (chair 0.37, desk
0.29, bathtub 0.33, table 0.33; on a 200-object pilot, silhouette IoU as the score gave 0.499 where the pixel
difference gave 0.511), with a top-32 ceiling of 0.580: even a perfect choice among the nearest training objects
stays under 0.6, and one view's pixels, with the true camera given, pick only a little better than the encoder.
"""
from __future__ import annotations

import argparse

import torch

from gan_studio.engine.data.views import ViewParams, render_params, render_random, seeded_views
from gan_studio.engine.data.voxels import load_voxels
from gan_studio.engine.metrics.iou import reconstruct_views
from gan_studio.engine.reconstruction import VoxelModel


def _iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    a, b = a.flatten(1), b.flatten(1)
    return (a & b).sum(1).float() / (a | b).sum(1).float().clamp_min(1)


def _best_match(x: torch.Tensor, ref: torch.Tensor, chunk: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """For each grid of x: (the highest voxel IoU with any grid of ref, its index)."""
    r = ref.flatten(1).float()
    out_v, out_i = [], []
    for i in range(0, len(x), chunk):
        q = x[i:i + chunk].flatten(1).float()
        inter = q @ r.T
        v, j = (inter / (q.sum(1, keepdim=True) + r.sum(1)[None] - inter).clamp_min(1)).max(1)
        out_v.append(v)
        out_i.append(j)
    return torch.cat(out_v), torch.cat(out_i)


@torch.no_grad()
def _encode(model: VoxelModel, voxels: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    views, _ = render_random(voxels, gen, model.image_size)
    return torch.cat([model.encoder(views[i:i + 256])[0] for i in range(0, len(views), 256)])


def _verified(model, views, params, pred, truth, train_vox, near) -> tuple[torch.Tensor, torch.Tensor]:
    """Per test object: IoU of the candidate (the model's shape or one of its `near` training objects) whose
    rendering at the true camera is nearest the picture, and the best IoU among the training candidates."""
    chosen, best = [], []
    for i in range(len(views)):
        cand = torch.cat([pred[i:i + 1], train_vox[near[i]]])                          # (1 + K, 32, 32, 32)
        n = len(cand)
        cam = ViewParams(params.azimuth[i].repeat(n), params.elevation[i].repeat(n), params.light[i].repeat(n, 1),
                         params.ambient[i].repeat(n))
        diff = (render_params(cand.float(), cam, model.image_size) - views[i:i + 1]).abs().flatten(1).mean(1)
        ious = _iou(cand, truth[i:i + 1].expand_as(cand))
        chosen.append(ious[diff.argmin()])
        best.append(ious[1:].max())
    return torch.stack(chosen), torch.stack(best)


@torch.no_grad()
def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="modelnet10-iwgan")
    ap.add_argument("--data", default="../shared/data/modelnet10_vox32")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = VoxelModel.open(args.model)
    train, test = load_voxels(args.data, "train"), load_voxels(args.data, "test")
    t, E, G = model.threshold, model.encoder, model.reconstruction_generator
    views, params = render_random(test.voxels, torch.Generator().manual_seed(0), model.image_size)  # eval3d's
    pred, truth = reconstruct_views(E, G, views) > t, test.voxels.bool()
    spread = train.subset(torch.linspace(0, len(train) - 1, 600).round().long())
    tv, _ = render_random(spread.voxels, torch.Generator().manual_seed(5), model.image_size)
    train_iou = float(_iou(reconstruct_views(E, G, tv) > t, spread.voxels.bool()).mean())
    shifts = [torch.roll(pred, (dx, dy, dz), (1, 2, 3)) for dx in (-1, 0, 1) for dy in (-1, 0, 1) for dz in (-1, 0, 1)]
    rows = {"model": _iou(pred, truth),
            "shift oracle": torch.stack([_iou(s, truth) for s in shifts]).max(0).values,
            "rot oracle": torch.stack([_iou(torch.rot90(pred, k, (1, 2)), truth) for k in range(4)]).max(0).values,
            "retrieval": _best_match(truth, train.voxels.bool())[0]}
    z_train, z_test = _encode(model, train.voxels, torch.Generator().manual_seed(100)), E(views)[0]
    near = torch.cdist(z_test, z_train).topk(10, largest=False).indices              # (N, 10)
    vote = torch.stack([train.voxels[i].float().mean(0) for i in near]) > 0.3
    rows["knn"] = _iou(vote, truth)
    rows["verified"], rows["top-32 oracle"] = _verified(model, views, params, pred, truth, train.voxels.bool(),
                                                         torch.cdist(z_test, z_train).topk(32, largest=False).indices)
    z4 = torch.stack([z_test] + [E(seeded_views(test.voxels, s, model.image_size))[0] for s in (1, 2, 3)]).mean(0)
    rows["4 views"] = _iou(torch.cat([G(z4[i:i + 256]) for i in range(0, len(z4), 256)])[:, 0] > t, truth)
    print(f"{'class':12s} " + " ".join(f"{k:>12s}" for k in rows))
    for c, name in enumerate(test.classes):
        sel = test.labels == c
        print(f"{name:12s} " + " ".join(f"{float(v[sel].mean()):12.3f}" for v in rows.values()))
    print(f"{'all':12s} " + " ".join(f"{float(v.mean()):12.3f}" for v in rows.values()))
    print(f"train (600 spread training objects, one random view each): {train_iou:.3f}")


if __name__ == "__main__":
    main()
