"""Feature extractors for FID and precision/recall, by name.

`lenet-mnist`: the penultimate layer (128-d) of a small LeNet that GAN Studio trains on MNIST and ships
in resources/ (Inception weights cannot be downloaded here). Images of any size are fitted to 1x28x28
(32 px is centre-cropped to 28, other sizes resized).

`inception` (inception.py): the standard FID Inception of pytorch-fid, 2048-d, optional — only when the user
provides its weights file (`inception:PATH`, or $GAN_STUDIO_INCEPTION).

A feature spec is `NAME` or `NAME:PATH` (the extractor's weights file).
"""
from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import torch
import torch.nn.functional as F

from ..bundle import load_bundle, save_bundle
from ..data.images import ImageDataset, fit_images
from ..errors import UserError
from ..models.base import build
from ..paths import resources_dir
from ..registry import FEATURES
from . import (
    inception,  # noqa: F401  (registers "inception")
    voxel_features,  # noqa: F401  (registers "voxnet-modelnet10", the 3D features)
)
from .extractor import FeatureExtractor

LENET_FILE = "lenet-mnist.safetensors"


@FEATURES.register("lenet-mnist")
class LeNetFeatures(FeatureExtractor):
    name = "lenet-mnist"

    def __init__(self, path: str | Path | None = None):
        path = Path(path) if path else resources_dir() / LENET_FILE
        if not path.is_file():
            raise UserError(f"the lenet-mnist feature network is missing ({path}); "
                            f"train it with `gan-studio train-classifier`")
        bundle = load_bundle(path)
        self.net = bundle.networks["classifier"].eval()
        self.dim = self.net.cfg.feature_dim
        self.meta = bundle.meta
        self.path = path

    def info(self) -> dict:
        return {"features_weights": str(self.path)}

    def trained_on(self) -> dict | None:
        ds = self.meta.get("dataset")
        return dict(ds) if isinstance(ds, dict) else None

    @torch.no_grad()
    def __call__(self, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
        outs = []
        for i in range(0, images.shape[0], batch_size):
            x = fit_images(images[i:i + batch_size].float().cpu(), 28, 1)
            outs.append(self.net.features(x).double())
        return torch.cat(outs) if outs else torch.zeros(0, self.dim, dtype=torch.float64)


def parse_spec(spec: str) -> tuple[str, str | None]:
    """"inception:/x/w.pth" -> ("inception", "/x/w.pth"); "lenet-mnist" -> ("lenet-mnist", None)."""
    if str(spec).endswith(".safetensors") and not str(spec).startswith(tuple(n + ":" for n in FEATURES.names())):
        return "lenet-mnist", str(spec)                  # a bare weights file: a (user-trained) LeNet
    name, sep, path = str(spec).partition(":")
    return name.strip(), (path.strip() or None) if sep else None


@functools.lru_cache(maxsize=4)
def get_extractor(spec: str = "lenet-mnist") -> FeatureExtractor:
    """The extractor for `NAME` or `NAME:PATH` (a UserError for an unknown name or an unusable file)."""
    name, path = parse_spec(spec)
    cls = FEATURES.get(name)
    return cls(path) if path else cls()


# ------------------------------------------------------------------ training the feature network

def train_lenet(data: ImageDataset, test: ImageDataset | None, epochs: int = 2, batch: int = 128,
                seed: int = 0, lr: float = 1e-3) -> Iterator[dict]:
    """Train the MNIST LeNet; yields {"epoch", "step", "loss"} and finally {"done": True, "net", "accuracy"}."""
    if data.labels is None:
        raise UserError("training the classifier needs labels (an MNIST folder with its label files)")
    torch.manual_seed(seed)
    net = build("lenet", "classifier", {})
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    x_all, y_all = data.as_float(28, 1), data.labels
    gen = torch.Generator().manual_seed(seed)
    step = 0
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(len(x_all), generator=gen)
        for i in range(0, len(perm), batch):
            idx = perm[i:i + batch]
            x = x_all[idx]
            # light augmentation: random shifts of up to 2 px so features are not brittle
            dx, dy = torch.randint(-2, 3, (2,), generator=gen).tolist()
            x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
            loss = F.cross_entropy(net(x), y_all[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if step % 50 == 0:
                yield {"epoch": epoch, "step": step, "loss": loss.detach().item()}
    net.eval()
    acc = classifier_accuracy(net, test) if test is not None else None
    yield {"done": True, "net": net, "accuracy": acc}


@torch.no_grad()
def classifier_accuracy(net, data: ImageDataset) -> float:
    x = data.as_float(28, 1)
    pred = torch.cat([net(x[i:i + 1000]).argmax(1) for i in range(0, len(x), 1000)])
    return (pred == data.labels).double().mean().item()


def save_lenet(path, net, meta: dict) -> Path:
    return save_bundle(path, {"classifier": net}, {"kind": "classifier", "arch": "lenet",
                                                   "config": net.cfg.to_dict(), **meta})

