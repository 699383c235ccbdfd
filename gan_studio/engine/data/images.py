"""Image datasets from user paths: MNIST-format IDX files (.gz or raw), a folder of images, .npy/.npz arrays.

Everything becomes an `ImageDataset`: uint8 images (N, C, H, W), optional int64 labels, and a description.
"""
from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import DataError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
MNIST_NAMES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
MNIST_LICENSE = "MNIST (LeCun, Cortes, Burges): no licence stated by the authors, usually cited as CC BY-SA 3.0"


@dataclass
class ImageDataset:
    images: torch.Tensor                 # (N, C, H, W) uint8
    labels: torch.Tensor | None = None   # (N,) int64
    name: str = ""
    license: str = "unknown"
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return self.images.shape[0]

    def as_float(self, resolution: int | None = None, channels: int | None = None,
                 index: torch.Tensor | slice | None = None) -> torch.Tensor:
        """Images in [-1, 1] as float32 (N, C, H, W), fitted to `resolution` and `channels` if given."""
        x = self.images if index is None else self.images[index]
        return fit_images(x.float() / 127.5 - 1.0, resolution, channels)


def fit_images(x: torch.Tensor, resolution: int | None, channels: int | None) -> torch.Tensor:
    """Fit [-1, 1] images (N, C, H, W) to a square resolution (pad/crop by 2 px steps, else resize) and channels."""
    if channels is not None and x.shape[1] != channels:
        if channels == 1:
            x = x.mean(1, keepdim=True)
        elif x.shape[1] == 1:
            x = x.expand(-1, channels, -1, -1)
        else:
            raise DataError(f"cannot convert {x.shape[1]}-channel images to {channels} channels")
    if resolution is not None and x.shape[-1] != resolution:
        h = x.shape[-1]
        if 0 < resolution - h <= 8 and (resolution - h) % 2 == 0:       # 28 -> 32: pad with background
            p = (resolution - h) // 2
            x = F.pad(x, (p, p, p, p), value=-1.0)
        elif 0 < h - resolution <= 8 and (h - resolution) % 2 == 0:     # 32 -> 28: centre crop
            p = (h - resolution) // 2
            x = x[..., p:h - p, p:h - p]
        else:
            x = F.interpolate(x, size=(resolution, resolution), mode="bilinear", antialias=True,
                              align_corners=False)
    return x.contiguous()


def _open(path: Path):
    with open(path, "rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (gzip or raw). Raises DataError on anything malformed."""
    path = Path(path)
    try:
        with _open(path) as fh:
            data = fh.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read IDX file {path}: {exc}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_DTYPES:
        raise DataError(f"{path} is not an IDX file (bad magic number)")
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        raise DataError(f"{path} is truncated")
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    dtype = np.dtype(IDX_DTYPES[data[2]])
    count = int(np.prod(shape)) if shape else 0
    body = data[4 + 4 * ndim:]
    if len(body) < count * dtype.itemsize:
        raise DataError(f"{path} is truncated: expected {count} values of shape {shape}")
    return np.frombuffer(body, dtype=dtype, count=count).reshape(shape)


def _find(folder: Path, stem: str) -> Path | None:
    for cand in (folder / stem, folder / (stem + ".gz")):
        if cand.is_file():
            return cand
    return None


def _load_mnist_dir(folder: Path, split: str) -> ImageDataset:
    img_name, lbl_name = MNIST_NAMES[split]
    img_path = _find(folder, img_name)
    if img_path is None:
        raise DataError(f"{folder} has no {img_name}[.gz] (an MNIST-format folder needs it for split {split!r})")
    return _load_idx_file(img_path, _find(folder, lbl_name), name=f"{folder.name}/{split}")


def _load_idx_file(img_path: Path, lbl_path: Path | None, name: str) -> ImageDataset:
    arr = read_idx(img_path)
    if arr.ndim == 3:
        arr = arr[:, None]
    elif arr.ndim == 4 and arr.shape[-1] in (1, 3):
        arr = arr.transpose(0, 3, 1, 2)
    else:
        raise DataError(f"{img_path} holds shape {arr.shape}, not images")
    labels = None
    if lbl_path is not None:
        lab = read_idx(lbl_path)
        if lab.shape[0] == arr.shape[0]:
            labels = torch.from_numpy(lab.astype(np.int64))
    lic = MNIST_LICENSE if "mnist" in str(img_path).lower() else "unknown"
    return ImageDataset(torch.from_numpy(np.ascontiguousarray(arr.astype(np.uint8))), labels, name, lic,
                        {"path": str(img_path)})


def _to_uint8_nchw(arr: np.ndarray, path: Path) -> torch.Tensor:
    if arr.ndim == 3:
        arr = arr[:, None]
    elif arr.ndim == 4 and arr.shape[-1] in (1, 3) and arr.shape[1] not in (1, 3):
        arr = arr.transpose(0, 3, 1, 2)
    if arr.ndim != 4 or arr.shape[1] not in (1, 3) or arr.shape[2] != arr.shape[3]:
        raise DataError(f"{path}: expected square images (N, H, W), (N, C, H, W) or (N, H, W, C), "
                        f"got shape {arr.shape}")
    if arr.dtype == np.uint8:
        return torch.from_numpy(np.ascontiguousarray(arr))
    a = arr.astype(np.float32)
    lo, hi = float(a.min()), float(a.max())
    if lo >= -1.0 - 1e-6 and hi <= 1.0 + 1e-6 and lo < 0:
        a = (a + 1) * 127.5        # [-1, 1]
    elif hi <= 1.0 + 1e-6:
        a = a * 255.0              # [0, 1]
    return torch.from_numpy(np.clip(np.rint(a), 0, 255).astype(np.uint8))


def _load_array(path: Path) -> ImageDataset:
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                keys = list(z.keys())
                key = next((k for k in ("images", "x", "X", "x_train", "X_train", "arr_0") if k in keys),
                           keys[0] if keys else None)
                if key is None:
                    raise DataError(f"{path} holds no arrays")
                arr = z[key]
                lab_key = next((k for k in ("labels", "y", "Y", "y_train", "Y_train") if k in keys), None)
                labels = z[lab_key] if lab_key else None
        else:
            arr, labels = np.load(path, allow_pickle=False), None
    except DataError:
        raise
    except Exception as exc:  # bad zip, pickled object arrays (refused), truncated file ...
        raise DataError(f"cannot read array file {path}: {str(exc).splitlines()[0]}") from None
    images = _to_uint8_nchw(arr, path)
    lab = torch.from_numpy(labels.astype(np.int64)) if labels is not None and len(labels) == len(images) else None
    return ImageDataset(images, lab, path.stem, "unknown", {"path": str(path)})


def image_files(folder: Path) -> list[Path]:
    """The image files under `folder` (recursively), sorted; DataError when there are none."""
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"{folder} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return files


def _load_folder(folder: Path) -> ImageDataset:
    return load_image_files(image_files(folder), folder)


def load_image_files(files: list[Path], folder: Path) -> ImageDataset:
    """The readable ones of `files` as one dataset: the first file's mode (gray or RGB) and size, the others
    centre-cropped square and resized to it; the names of the files read in info["files"]."""
    from PIL import Image, UnidentifiedImageError
    imgs, size, mode, read = [], None, None, []
    for p in files:
        try:
            with Image.open(p) as im:
                mode = mode or ("L" if im.mode in ("L", "1", "I;16") else "RGB")
                im = im.convert(mode)
                size = size or min(im.size)
                if im.size != (size, size):
                    w, h = im.size
                    s = min(w, h)
                    im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
                    im = im.resize((size, size), Image.BICUBIC)
                imgs.append(np.asarray(im, dtype=np.uint8))
                read.append(str(p))
        except (OSError, UnidentifiedImageError):
            continue  # skip unreadable files; report the count in info
    if not imgs:
        raise DataError(f"none of the images in {folder} could be read")
    arr = np.stack(imgs)
    return ImageDataset(_to_uint8_nchw(arr, folder), None, folder.name, "unknown",
                        {"path": str(folder), "skipped": len(files) - len(imgs), "files": read})


def load_images(path: str | Path, split: str = "train") -> ImageDataset:
    """Load a dataset from a user path. `split` picks train/test in an MNIST-format folder."""
    if split not in MNIST_NAMES:
        raise DataError(f"split must be 'train' or 'test', not {split!r}")
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(f"dataset path {p} does not exist")
    if p.is_dir():
        if _find(p, MNIST_NAMES["train"][0]) or _find(p, MNIST_NAMES["test"][0]):
            return _load_mnist_dir(p, split)
        return _load_folder(p)
    if p.suffix in (".npy", ".npz"):
        return _load_array(p)
    if "idx" in p.name or p.suffix == ".gz":
        lbl = None
        if "images-idx3" in p.name:
            cand = p.with_name(p.name.replace("images-idx3", "labels-idx1"))
            lbl = cand if cand.is_file() else None
        return _load_idx_file(p, lbl, p.name.split(".")[0])
    raise DataError(f"{p}: not a dataset (give an MNIST folder or IDX file, a folder of images, or .npy/.npz)")
