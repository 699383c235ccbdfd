"""ModelNet10 at 32³ (binvox occupancy) from a user path, stored compactly as uint8.

The file is an `.npz` with X_train (N, 32, 32, 32), y_train (N,), X_test, y_test (classes 0-9), or a
folder holding `modelnet10.npz`. Empty grids are skipped. Grids are indexed [x, y, z], z up.
ModelNet is for academic research use only: it is read from the user's copy, never shipped.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError

CLASSES = ("bathtub", "bed", "chair", "desk", "dresser", "monitor", "night_stand", "sofa", "table", "toilet")
RESOLUTION = 32
DEFAULT_PATH = Path("../shared/data/modelnet10_vox32/modelnet10.npz")
LICENSE = ("ModelNet10 (Wu et al. 2015, '3D ShapeNets', Princeton): academic research use only; "
           "weights trained on it inherit that restriction")


@dataclass
class VoxelDataset:
    voxels: torch.Tensor                  # (N, 32, 32, 32) uint8 in {0, 1}
    labels: torch.Tensor                  # (N,) int64 class index
    classes: tuple[str, ...] = CLASSES
    name: str = "modelnet10-vox32"
    split: str = "train"
    license: str = LICENSE
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return self.voxels.shape[0]

    def subset(self, index) -> VoxelDataset:
        idx = torch.as_tensor(index, dtype=torch.long)
        return VoxelDataset(self.voxels[idx], self.labels[idx], self.classes, self.name, self.split,
                            self.license, dict(self.info, subset=int(idx.numel())))


def resolve_path(path: str | Path | None) -> Path:
    p = Path(path).expanduser() if path else DEFAULT_PATH
    if p.is_dir():
        p = p / "modelnet10.npz"
    if not p.is_file():
        raise DataError(f"voxel data not found: {p} (give the ModelNet10 32³ modelnet10.npz or its folder)")
    return p


def _read_split(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            if f"X_{split}" not in z.files or f"y_{split}" not in z.files:
                raise DataError(f"{path.name}: no X_{split}/y_{split} arrays (has: {', '.join(z.files)})")
            x = z[f"X_{split}"]
            x = x.astype(np.uint8) if x.dtype != np.uint8 else x       # int32 is 4x the memory
            y = z[f"y_{split}"].astype(np.int64)
    except DataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"cannot read voxel data {path}: {str(exc).splitlines()[0]}") from None
    if x.ndim != 4 or x.shape[1:] != (RESOLUTION,) * 3 or len(y) != len(x):
        raise DataError(f"{path.name}: X_{split} must be (N, 32, 32, 32) with N labels, got {x.shape}, {y.shape}")
    return np.minimum(x, 1), y


def load_voxels(path: str | Path | None = None, split: str = "train") -> VoxelDataset:
    """Load one split ('train' or 'test'), skipping empty grids. Raises DataError on anything unreadable."""
    if split not in ("train", "test"):
        raise DataError(f"split must be 'train' or 'test', not {split!r}")
    p = resolve_path(path)
    x, y = _read_split(p, split)
    keep = x.reshape(len(x), -1).any(1)                                   # (N,) non-empty
    if y.size and (y.min() < 0 or y.max() >= len(CLASSES)):
        raise DataError(f"{p.name}: labels must be 0-{len(CLASSES) - 1}")
    info = {"path": str(p), "skipped_empty": int((~keep).sum()), "n_file": int(len(x))}
    return VoxelDataset(torch.from_numpy(np.ascontiguousarray(x[keep])), torch.from_numpy(y[keep]),
                        split=split, info=info)


def class_counts(ds: VoxelDataset) -> dict[str, int]:
    counts = torch.bincount(ds.labels, minlength=len(ds.classes)).tolist()
    return {c: int(n) for c, n in zip(ds.classes, counts)}
