"""The 3D feature network `voxnet-modelnet10`, as `lenet-mnist` is for 2-D (features.py): a small VoxNet-style
classifier (models/voxnet.py) that GAN Studio trains on ModelNet10 32³ (`gan-studio train-voxel-classifier`)
and ships in resources/. Its penultimate layer (128-d) is the feature space of the "3D FID"; its softmax says
what a random shape looks like (metrics/shapes3d.py, the 3D tab's guess).

    net = get_extractor("voxnet-modelnet10")      # or "voxnet-modelnet10:PATH" (a train-voxel-classifier file)
    feats, probs = net.features_and_probs(grids)  # grids (N, 32, 32, 32) bool/uint8/float in [0, 1]

Training (`train_voxnet`) augments with small shifts only (up to 2 voxels, zero fill): ModelNet10 is aligned,
but each class in its own convention (chairs are mirror-symmetric in x, monitors and sofas in y), so a flip or
a rotation about the up axis would show the classifier orientations the data never has.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import torch
import torch.nn.functional as F

from ..bundle import load_bundle, save_bundle
from ..data.voxels import VoxelDataset
from ..errors import UserError
from ..models.base import build
from ..paths import resources_dir
from ..registry import FEATURES
from .extractor import FeatureExtractor

NAME = "voxnet-modelnet10"
VOXNET_FILE = "voxnet-modelnet10.safetensors"
GRID = (32, 32, 32)


def _grids(x: torch.Tensor) -> torch.Tensor:
    """(N, 32, 32, 32) or (N, 1, 32, 32, 32) -> (N, 32, 32, 32) float32 on the CPU; a UserError for images."""
    x = torch.as_tensor(x)
    if x.ndim == 5 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 4 or tuple(x.shape[1:]) != GRID:
        raise UserError(f"{NAME} features are for 32³ voxel grids (N, 32, 32, 32), not {tuple(x.shape)} "
                        f"(for images use lenet-mnist or inception)")
    return x.float().cpu()


@FEATURES.register(NAME)
class VoxNetFeatures(FeatureExtractor):
    name = NAME

    def __init__(self, path: str | Path | None = None):
        path = Path(path) if path else resources_dir() / VOXNET_FILE
        if not path.is_file():
            raise UserError(f"the {NAME} voxel classifier is missing ({path}); train it with "
                            f"`gan-studio train-voxel-classifier`")
        bundle = load_bundle(path)
        if bundle.meta.get("arch") != "voxnet" or "classifier" not in bundle.networks:
            raise UserError(f"{path.name} is not a voxel classifier (a {bundle.meta.get('arch')} "
                            f"{bundle.kind}); give a `gan-studio train-voxel-classifier` file")
        self.net = bundle.networks["classifier"].float().eval()
        self.dim = self.net.cfg.feature_dim
        self.meta = bundle.meta
        self.path = path
        self.classes = tuple(self.meta.get("classes") or (str(i) for i in range(self.net.cfg.num_classes)))

    def info(self) -> dict:
        return {"features_weights": str(self.path)}

    def trained_on(self) -> dict | None:
        ds = self.meta.get("dataset")
        return dict(ds) if isinstance(ds, dict) else None

    @torch.no_grad()
    def features_and_probs(self, grids: torch.Tensor, batch_size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
        """Grids (N, 32, 32, 32) -> features (N, dim) float64 and class probabilities (N, classes) float64."""
        x = _grids(grids)
        feats, probs = [], []
        for i in range(0, x.shape[0], batch_size):
            f = self.net.features(x[i:i + batch_size])
            feats.append(f.double())
            probs.append(torch.softmax(self.net.head(f), 1).double())
        if not feats:
            return torch.zeros(0, self.dim, dtype=torch.float64), torch.zeros(0, len(self.classes), dtype=torch.float64)
        return torch.cat(feats), torch.cat(probs)

    def __call__(self, grids: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        return self.features_and_probs(grids, batch_size)[0]

    def guess(self, grid, threshold: float, top: int = 3) -> list[tuple[str, float]]:
        """One grid (32, 32, 32) of probabilities (numpy or torch), solid above `threshold` as on screen ->
        the `top` classes and their probabilities, most likely first; [] for an empty grid (nothing to
        recognise: the network would still name a class for all-empty input)."""
        solid = torch.as_tensor(grid) > threshold
        if not bool(solid.any()):
            return []
        probs = self.features_and_probs(solid[None])[1][0]
        p, idx = probs.topk(min(top, probs.numel()))
        return [(self.classes[int(i)], float(v)) for v, i in zip(p, idx)]


# ------------------------------------------------------------------ training the feature network

def shift_grids(x: torch.Tensor, gen: torch.Generator, max_shift: int) -> torch.Tensor:
    """Each grid of (N, X, Y, Z) moved by its own random offset of up to `max_shift` voxels per axis; cells
    shifted in are empty (no wrap-around: many objects touch the grid's sides)."""
    if max_shift <= 0:
        return x
    s = max_shift
    padded = F.pad(x, (s, s, s, s, s, s))
    offsets = torch.randint(0, 2 * s + 1, (x.shape[0], 3), generator=gen).tolist()
    n = x.shape[1]
    return torch.stack([padded[i, a:a + n, b:b + n, c:c + n] for i, (a, b, c) in enumerate(offsets)])


def train_voxnet(data: VoxelDataset, test: VoxelDataset | None, epochs: int = 30, batch: int = 32, seed: int = 0,
                 lr: float = 1e-3, width: int = 16, max_shift: int = 2,
                 weight_decay: float = 1e-4) -> Iterator[dict]:
    """Train the voxel classifier (AdamW, cosine learning rate over all steps). Yields {"epoch", "step", "loss"}
    now and then, {"epoch", "test_accuracy", ...} after each epoch (when `test` is given; reported, never used
    to choose anything), and finally {"done": True, "net", "accuracy", "per_class"}."""
    if len(data) == 0:
        raise UserError("training the voxel classifier needs at least one training object")
    torch.manual_seed(seed)
    net = build("voxnet", "classifier", {"num_classes": len(data.classes), "width": width})
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    per_epoch = math.ceil(len(data) / batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * per_epoch)
    gen = torch.Generator().manual_seed(seed)
    step = 0
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(len(data), generator=gen)
        total, seen = 0.0, 0
        for i in range(0, len(perm), batch):
            idx = perm[i:i + batch]
            x = shift_grids(data.voxels[idx].float(), gen, max_shift)
            loss = F.cross_entropy(net(x), data.labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            total, seen = total + loss.item() * len(idx), seen + len(idx)
            if step % 20 == 0:
                yield {"epoch": epoch, "step": step, "loss": loss.item()}
        report = {"epoch": epoch, "step": step, "loss": total / max(seen, 1), "epoch_done": True}
        if test is not None:
            report["test_accuracy"] = classifier_report(net, test)["accuracy"]
        yield report
    net.eval()
    final = classifier_report(net, test) if test is not None else {"accuracy": None, "per_class": {}}
    yield {"done": True, "net": net, **final}


@torch.no_grad()
def classifier_report(net, data: VoxelDataset, batch: int = 256) -> dict:
    """Accuracy over objects and per class ({"accuracy", "class_mean_accuracy", "per_class", "n"})."""
    was_training = net.training
    net.eval()
    pred = torch.cat([net(data.voxels[i:i + batch]).argmax(1) for i in range(0, len(data), batch)])
    net.train(was_training)
    right = (pred == data.labels).double()
    per_class = {name: float(right[data.labels == c].mean()) for c, name in enumerate(data.classes)
                 if (data.labels == c).any()}
    return {"accuracy": float(right.mean()), "class_mean_accuracy": sum(per_class.values()) / max(len(per_class), 1),
            "per_class": per_class, "n": len(data)}


def save_voxnet(path, net, meta: dict, half: bool = True) -> Path:
    """Write the classifier (float16 by default: the shipped file stays small) with its metadata."""
    stored = {"precision": "float16" if half else "float32", "networks": ["classifier"]}
    return save_bundle(path, {"classifier": net}, {"kind": "classifier", "arch": "voxnet", "config": net.cfg.to_dict(),
                                                   "stored": stored, **meta}, half=half)
