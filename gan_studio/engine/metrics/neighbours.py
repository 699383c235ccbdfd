"""Nearest training images of any images, in a feature space or in pixel space, batched and memory-bounded.

Two spaces (`SPACES`):

* `features`: Euclidean distance between feature vectors of a feature network (a feature spec as
  `gan-studio evaluate` takes it: the shipped `lenet-mnist` for MNIST-like images, `inception:PATH`, …).
  `features="auto"` picks `lenet-mnist` for one-channel images and, for RGB, `inception` when
  $GAN_STUDIO_INCEPTION names its weights file (otherwise there is no feature space for RGB: `pixels` only).
* `pixels`: the root-mean-square pixel difference in [-1, 1] units (0: identical, 2: black vs white
  everywhere), after fitting the training images to the queries' shape the way training fits them
  (`fit_images`: 28 -> 32 px is padding); images above `PIXEL_MAX_RES` are area-downsampled to it first, which
  bounds memory and time and keeps a copy a copy.

The training set is streamed in chunks (uint8 in memory, a chunk fitted and embedded at a time) against the
queries' embeddings, keeping a running top k per query, so memory is the queries' embeddings plus one chunk
whatever the size of the training set; each chunk is embedded once for all queries.
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from ..data import ImageDataset, load_images
from ..errors import UserError
from .features import get_extractor
from .inception import ENV_VAR

SPACES = ("features", "pixels")
PIXEL_MAX_RES = 64
CHUNK_BYTES = 64 << 20         # a training chunk's fitted float images, at most (and at least 256 images)
BLOCK_ELEMENTS = 8 << 20       # distances computed at once: query rows x chunk rows


@dataclass
class Space:
    """How images become rows whose Euclidean distance is the space's distance."""
    name: str
    metric: str                                # what a distance means, for people
    embed: Callable[[torch.Tensor], torch.Tensor]  # (N, C, H, W) in [-1, 1] -> (N, D) float32
    features: str | None = None                # the feature network (features space)
    extractor: object = None


def resolve_features(features: str | None, channels: int) -> str | None:
    """The feature spec to use: `features` as given, or for "auto" (or None) lenet-mnist for one-channel images,
    inception for RGB when $GAN_STUDIO_INCEPTION is set, else None (no feature space)."""
    if features not in (None, "", "auto"):
        return features
    if channels == 1:
        return "lenet-mnist"
    return "inception" if os.environ.get(ENV_VAR) else None


def no_features_message(channels: int) -> str:
    return (f"no feature network for {channels}-channel images: give --features inception:PATH (the FID "
            f"Inception weights) or set ${ENV_VAR}, or use the pixel space")


def pixel_space(image_shape) -> Space:
    c, res = int(image_shape[0]), int(image_shape[-1])
    side = min(res, PIXEL_MAX_RES)

    def embed(x: torch.Tensor) -> torch.Tensor:
        x = x.float()
        if x.shape[-1] != side:
            x = F.interpolate(x, size=(side, side), mode="area")
        return x.flatten(1) / math.sqrt(c * side * side)       # Euclidean distance = RMS difference

    at = f" at {side}x{side} (area-downsampled)" if side != res else ""
    return Space("pixels", f"RMS pixel difference in [-1, 1] units{at}", embed)


def feature_space(spec: str) -> Space:
    ex = get_extractor(spec)
    return Space("features", f"Euclidean distance between {ex.name} features", lambda x: ex(x).float(),
                 features=ex.name, extractor=ex)


def make_space(space: str, image_shape, features: str | None = "auto") -> Space:
    if space == "pixels":
        return pixel_space(image_shape)
    if space != "features":
        raise UserError(f"space must be one of {', '.join(SPACES)}, not {space!r}")
    spec = resolve_features(features, int(image_shape[0]))
    if spec is None:
        raise UserError(no_features_message(int(image_shape[0])))
    return feature_space(spec)


# ------------------------------------------------------------------ data

def as_dataset(data, split: str = "train") -> ImageDataset:
    """An ImageDataset, or the `split` of the dataset at a path (load_images' rules; DataError if unreadable)."""
    if isinstance(data, ImageDataset):
        return data
    if isinstance(data, (str, Path)):
        return load_images(data, split)
    raise TypeError(f"expected an ImageDataset or a path, not {type(data).__name__}")


def check_shape(data: ImageDataset, image_shape, what: str = "the model") -> None:
    """One line when the data cannot be what `what` makes: another number of channels."""
    c = int(data.images.shape[1])
    if c != int(image_shape[0]):
        path = data.info.get("path") or data.name
        raise UserError(f"{path} holds {c}-channel {data.images.shape[2]}x{data.images.shape[3]} images but "
                        f"{what} makes {'x'.join(map(str, image_shape))} images: give the data it was trained on")


def training_chunks(data: ImageDataset, image_shape, n: int | None = None) -> Iterator[tuple[int, torch.Tensor]]:
    """(start, images (B, C, H, W) in [-1, 1] fitted to `image_shape`) over the first `n` images of `data`."""
    c, res = int(image_shape[0]), int(image_shape[-1])
    n = len(data) if n is None else min(n, len(data))
    rows = max(256, CHUNK_BYTES // (4 * c * res * res))
    for i in range(0, n, rows):
        yield i, data.as_float(res, c, index=slice(i, min(i + rows, n)))


# ------------------------------------------------------------------ k nearest

class TopK:
    """A running top k (smallest) of squared distances from fixed query rows to reference rows seen in chunks."""

    def __init__(self, queries: torch.Tensor, k: int, cosine: bool = False):
        self.cosine = cosine
        self.q = F.normalize(queries.float(), dim=1) if cosine else queries.float()
        self.q2 = (self.q * self.q).sum(1, keepdim=True)
        self.k, self.seen = k, 0
        n = self.q.shape[0]
        self.d = torch.full((n, 0), math.inf)
        self.i = torch.zeros((n, 0), dtype=torch.long)

    def update(self, ref: torch.Tensor, offset: int | None = None) -> None:
        ref = F.normalize(ref.float(), dim=1) if self.cosine else ref.float()
        offset = self.seen if offset is None else offset
        r2 = (ref * ref).sum(1)
        rows = max(1, BLOCK_ELEMENTS // max(1, ref.shape[0]))
        kk = min(self.k, ref.shape[0])
        ds, js = [], []
        for a in range(0, self.q.shape[0], rows):
            dot = self.q[a:a + rows] @ ref.T
            d = (1.0 - dot.abs()) if self.cosine else (self.q2[a:a + rows] + r2[None] - 2.0 * dot).clamp_min_(0)
            v, j = d.topk(kk, dim=1, largest=False)
            ds.append(v)
            js.append(j + offset)
        d, i = torch.cat([self.d, torch.cat(ds)], 1), torch.cat([self.i, torch.cat(js)], 1)
        self.d, pick = d.topk(min(self.k, d.shape[1]), dim=1, largest=False)
        self.i = i.gather(1, pick)
        self.seen = max(self.seen, offset + ref.shape[0])

    def result(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(distances (N, k) float64 ascending, indices (N, k)); Euclidean, or MiFID's 1 - |cos| with cosine."""
        d = self.d.double() if self.cosine else self.d.double().sqrt()
        return d, self.i


def knn(queries: torch.Tensor, reference: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The k nearest rows of `reference` (Euclidean) of each query row: (distances, indices), (N, k) each."""
    top = TopK(queries, k)
    top.update(reference, 0)
    return top.result()


# ------------------------------------------------------------------ nearest training images

@dataclass
class Neighbours:
    distances: torch.Tensor         # (N, k) float64, ascending
    indices: torch.Tensor           # (N, k) int64, into the training data
    space: str
    metric: str
    features: str | None
    data: ImageDataset
    n_train: int                    # the neighbours were searched among data's first n_train images

    def images(self, image_shape) -> torch.Tensor:
        """The neighbours as images (N, k, C, H, W) in [-1, 1], fitted to `image_shape`."""
        c, res = int(image_shape[0]), int(image_shape[-1])
        flat = self.data.as_float(res, c, index=self.indices.flatten())
        return flat.reshape(*self.indices.shape, *flat.shape[1:])

    def as_json(self) -> list[list[dict]]:
        labels = self.data.labels
        return [[{"index": int(j), "distance": float(d)} | ({} if labels is None else {"label": int(labels[j])})
                 for d, j in zip(dr, jr)] for dr, jr in zip(self.distances, self.indices)]


def nearest_training_images(images: torch.Tensor, data, k: int = 5, space: str = "features",
                            features: str | None = "auto", n_train: int | None = None,
                            progress: Callable[[int, int], None] | None = None) -> Neighbours:
    """For each image (N, C, H, W) in [-1, 1], its k nearest images among the first `n_train` (default all)
    images of `data` (an ImageDataset or a path: its train split) in `space` ("features" or "pixels")."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise UserError(f"k must be a whole number of at least 1, not {k}")
    if images.ndim != 4 or images.shape[0] == 0:
        raise UserError(f"expected images (N, C, H, W), not a tensor of shape {tuple(images.shape)}")
    data = as_dataset(data)
    shape = tuple(images.shape[1:])
    check_shape(data, shape, "the model")
    n = len(data) if n_train is None else min(n_train, len(data))
    if n < k:
        raise UserError(f"k={k} neighbours asked for but the training data has {n} images")
    sp = make_space(space, shape, features)
    top = TopK(sp.embed(images.float().clamp(-1, 1)), k)
    for start, chunk in training_chunks(data, shape, n):
        top.update(sp.embed(chunk), start)
        if progress:
            progress(start + chunk.shape[0], n)
    d, i = top.result()
    return Neighbours(d, i, sp.name, sp.metric, sp.features, data, n)


# ------------------------------------------------------------------ a picture of them

def neighbour_sheet(images: torch.Tensor, nb: Neighbours, captions: list[str] | None = None, min_cell: int = 64):
    """A PIL image: one row per query, the query then its k nearest training images, each neighbour captioned
    with its index in the training data (and label) and its distance."""
    from PIL import Image, ImageDraw, ImageFont

    from ..imaging import to_uint8
    n, k = nb.indices.shape
    res = int(images.shape[-1])
    scale = max(1, math.ceil(min_cell / res))
    cell, gap, sep, text_h, head = res * scale, 4, 12, 26, 18
    thumbs = torch.cat([images.float().cpu()[:, None], nb.images(images.shape[1:])], 1)   # (N, k+1, C, H, W)
    px = to_uint8(thumbs.flatten(0, 1)).repeat(scale, 1).repeat(scale, 2)
    if px.shape[-1] == 1:
        px = px.repeat(3, -1)
    width = gap + (k + 1) * (cell + gap) + sep
    sheet = Image.new("RGB", (width, head + n * (cell + text_h + gap) + gap), (24, 24, 24))
    draw, font = ImageDraw.Draw(sheet), ImageFont.load_default()
    draw.text((gap, 3), f"{k} nearest training images in {nb.space} space" +
              (f" ({nb.features})" if nb.features else ""), fill=(220, 220, 220), font=font)
    labels = nb.data.labels
    for r in range(n):
        y = head + r * (cell + text_h + gap)
        for c in range(k + 1):
            x = gap + c * (cell + gap) + (sep if c else 0)
            sheet.paste(Image.fromarray(px[r * (k + 1) + c]), (x, y))
            if c == 0:
                lines = [captions[r] if captions else f"sample {r}", ""]
            else:
                j = int(nb.indices[r, c - 1])
                lines = [f"#{j}" + (f" ({int(labels[j])})" if labels is not None else ""),
                         f"d {float(nb.distances[r, c - 1]):.3g}"]
            for t, line in enumerate(lines):
                draw.text((x, y + cell + 1 + 12 * t), line, fill=(200, 200, 200), font=font)
    return sheet
