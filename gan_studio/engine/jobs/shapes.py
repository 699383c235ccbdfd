"""The 3D panel's work, Qt-free: a voxel model turns a seed, an image, a ModelNet10 test object (seen as `eval3d`
sees it) or a `.npy` grid into a `Shape`; two shapes blend into interpolation frames. The GUI runs these in its
task queue; each is a plain function of its arguments.
"""
from __future__ import annotations

import os
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..bundle import Bundle, load_bundle
from ..catalog import cli_ref
from ..data.views import random_params, render_params
from ..data.voxels import load_voxels
from ..errors import UserError
from ..image_input import load_view
from ..reconstruction import VoxelModel
from ..voxels_mesh import load_voxel_file

KIND = "voxel-model"
EVAL_SEED = 0                    # eval3d's default --seed: test object i is seen as eval3d sees it
REPO_ROOT = Path(__file__).resolve().parents[3]


def modelnet_dir() -> Path | None:
    """The ModelNet10 32³ folder: under $GAN_STUDIO_SHARED_DATA when set, else ../shared/data (from the
    working directory, then from the repository)."""
    env = os.environ.get("GAN_STUDIO_SHARED_DATA")
    rel = Path("modelnet10_vox32")
    candidates = [Path(env) / rel] if env else [Path("../shared/data") / rel, REPO_ROOT.parent / "shared/data" / rel]
    for c in candidates:
        if (c / "modelnet10.npz").is_file():
            return c.resolve()
    return None


@dataclass
class Shape:
    """A shape on screen and where it came from."""
    probs: np.ndarray                     # (32, 32, 32) float32 occupancy probabilities, [x, y, z] z up
    z: torch.Tensor | None                # (1, z_dim) latent (None for a voxel file)
    source: str                           # "seed" | "object" | "image" | "grid"
    title: str
    caption: str
    view: np.ndarray | None = None        # (S, S) the encoder's input in [0, 1]
    truth: np.ndarray | None = None       # (32, 32, 32) bool, the true shape of a test object
    seed: int | None = None
    path: str | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class TestSet:
    data: object                          # VoxelDataset (test split)
    params: object                        # ViewParams: eval3d's one view per object (seed EVAL_SEED)
    path: Path

    def __len__(self) -> int:
        return len(self.data)

    def class_name(self, i: int) -> str:
        return self.data.classes[int(self.data.labels[i])]


def load_model_job(path: str, device) -> tuple[str, VoxelModel]:
    return path, VoxelModel.from_bundle(load_bundle(path), device)


def adopt_model_job(path: str, bundle: Bundle, device) -> tuple[str, VoxelModel]:
    return path, VoxelModel.from_bundle(bundle, device)


def load_test_set_job(folder: Path) -> TestSet:
    data = load_voxels(folder, "test")
    return TestSet(data, random_params(len(data), torch.Generator().manual_seed(EVAL_SEED)), folder)


def seed_shape(model: VoxelModel, seed: int, truncation: float | None = None,
               component: int | str | None = None) -> Shape:
    """Seed `seed`'s random shape at ψ `truncation` (default the model's); with a fitted prior, from `component`
    (a class; default the one the seed draws)."""
    psi = model.truncation if truncation is None else float(truncation)
    z = model.latent(seed, psi, component)
    extra: dict = {"truncation": psi}
    title, what = f"Seed {seed}", "a random shape from the latent prior"
    if model.prior is not None:
        i = model.component_index(component)
        cls = model.components[i] if i is not None else model.seed_component(seed)
        extra |= {"class": cls, "class_asked": i is not None}
        title += f" · {cls.replace('_', ' ')}"
        what = f"a random {cls.replace('_', ' ')} from the fitted prior" + ("" if i is not None
                                                                          else " (the seed's class)")
    return Shape(model.decode(z)[0], z, "seed", title, f"Seed {seed}: {what} at ψ {psi:g}. No input image.",
                 seed=seed, extra=extra)


def _encode(model: VoxelModel, view: torch.Tensor, refine: int) -> tuple[torch.Tensor, str, dict]:
    """(z, caption suffix, extra) of a view, refined for `refine` steps (timed) when above 0."""
    if not refine:
        return model.encode(view), "", {}
    t0 = time.perf_counter()
    z = model.refine(view, refine)
    ms = (time.perf_counter() - t0) * 1000
    return z, f"; refined {refine} steps ({ms / 1000:.1f} s)", {"refine": refine, "refine_ms": round(ms, 1)}


def image_shape(model: VoxelModel, path: str, refine: int = 0) -> Shape:
    view = load_view(path, model.image_size)                            # (1, 1, S, S); UserError if not an image
    z, note, extra = _encode(model, view, refine)
    name = Path(path).name
    return Shape(model.decode(z, encoded=True)[0], z, "image", name,
                 f"{name}, as the encoder sees it ({model.image_size}²){note}", view=view[0, 0].numpy(),
                 path=str(path), extra=extra)


def object_shape(model: VoxelModel, tests: TestSet, index: int, refine: int = 0) -> Shape:
    if not 0 <= index < len(tests):
        raise UserError(f"test object {index} does not exist (0-{len(tests) - 1})")
    vox = tests.data.voxels[index:index + 1]                             # (1, 32, 32, 32) uint8
    view = render_params(vox, tests.params.slice(index, index + 1), model.image_size)    # (1, 1, S, S)
    z, note, extra = _encode(model, view, refine)
    cls = tests.class_name(index)
    title = f"{cls.replace('_', ' ').capitalize()} · test object {index}"
    return Shape(model.decode(z, encoded=True)[0], z, "object", title,
                 f"ModelNet10 test object {index} ({cls}), seen as eval3d sees it{note}", view=view[0, 0].numpy(),
                 truth=vox[0].numpy().astype(bool), extra={"index": index, "class": cls} | extra)


def grid_shape(path: str) -> Shape:
    grid = load_voxel_file(path)
    name = Path(path).name
    return Shape(grid, None, "grid", name, f"A voxel grid from {name}: no input image, no latent.", path=str(path))


def make_shape(model: VoxelModel | None, request: tuple, tests: TestSet | None = None, refine: int = 0) -> Shape:
    """The shape a request asks for; images and test objects refined for `refine` steps after encoding."""
    kind = request[0]
    if kind == "grid":
        return grid_shape(request[1])
    if model is None:
        raise UserError("open a 3D voxel model first")
    if kind == "seed":                                   # ("seed", n[, ψ[, class]])
        return seed_shape(model, *request[1:4])
    if kind == "image":
        return image_shape(model, request[1], refine)
    if kind == "object":
        if tests is None:
            raise UserError("the ModelNet10 test objects are not loaded")
        return object_shape(model, tests, request[1], refine)
    raise ValueError(f"unknown shape request {kind!r}")


def interpolate_job(model: VoxelModel, z_a: torch.Tensor, b: tuple, steps: int, method: str,
                    a_encoded: bool = False) -> dict:
    """Frames from z_a to B = ("seed", n[, ψ[, class]]) or ("image", path): {"frames": (steps, 32, 32, 32), "b": label}.
    `a_encoded`: z_a came from an image; when B is one too, the frames use the reconstruction statistics."""
    if b[0] == "seed":
        z_b, label = model.latent(*b[1:4]), f"seed {b[1]}"
    else:
            z_b, label = model.encode(load_view(b[1], model.image_size)), Path(b[1]).name
    frames = model.interpolate(z_a, z_b, steps, method, encoded=a_encoded and b[0] == "image")
    return {"frames": frames, "b": label, "steps": steps, "method": method}


def shape_stats(grid: np.ndarray, threshold: float, truth: np.ndarray | None = None) -> tuple[int, float | None]:
    """(voxels above `threshold`, IoU with the true shape or None where there is none / both are empty)."""
    solid = grid > threshold
    if truth is None:
        return int(solid.sum()), None
    union = int((solid | truth).sum())
    return int(solid.sum()), (int((solid & truth).sum()) / union if union else None)


def shape_command(shape: Shape, model_path: Path | None, threshold: float, style: str, out: str = "shape.stl") -> str:
    """The CLI call that writes `shape` ('' where there is none: a test object, a voxel file)."""
    tail = f" --out {out} --threshold {threshold:g}" + (" --mesh smooth" if style == "smooth" else "")
    ref = cli_ref(model_path)
    if shape.source == "seed":
        psi = shape.extra.get("truncation")
        cls = f" --class {shape.extra['class']}" if shape.extra.get("class_asked") else ""
        return f"gan-studio sample3d --model {ref} --seed {shape.seed}" + tail + \
            ("" if psi is None else f" --truncation {psi:g}") + cls
    if shape.source == "image":
        refine = f" --refine {shape.extra['refine']}" if shape.extra.get("refine") else ""
        return f"gan-studio reconstruct --model {ref} --image {shlex.quote(shape.path)}{refine}" + tail
    return ""
