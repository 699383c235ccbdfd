"""Two image domains for translation training (issue 23): paired (pix2pix, super-resolution) or unpaired (CycleGAN,
DiscoGAN, DualGAN), from user paths.

    load_translation_data(source, paired=True, transform="strokes")    # B = the images, A = strokes(B): pairs
    load_translation_data("pairs/", paired=True)                        # pairs/A/*.png + pairs/B/*.png, same names
    load_translation_data(a_path, paired=False, source_b=b_path)        # two sources, sampled independently
    load_translation_data("two/", paired=False)                         # two/A/ and two/B/ (any names)
    load_translation_data(source, paired=False, transform="edges")      # A = edges(first half), B = second half

A source is anything `load_images` reads (an MNIST folder, an image folder, an IDX file, .npy/.npz). A named
transform (data/transforms.py) always makes domain A. From one source without pairs, the images are split in two
halves (even / odd positions) so that no image appears in both domains: A is the transform of one half, B the other
half as it is. Labels (MNIST's) are kept per domain (to check that a translation keeps the class).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..errors import DataError, UserError
from .images import ImageDataset, image_files, load_image_files, load_images
from .transforms import apply_transform, get_transform


@dataclass
class TranslationData:
    a: torch.Tensor                      # (N_a, C_a, H_a, W_a) uint8: domain A (the input)
    b: torch.Tensor                      # (N_b, C_b, H_b, W_b) uint8: domain B (the target)
    paired: bool                         # a[i] and b[i] belong together
    labels_a: torch.Tensor | None = None
    labels_b: torch.Tensor | None = None
    name: str = ""
    license: str = "unknown"
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return min(len(self.a), len(self.b))

    @staticmethod
    def as_float(x: torch.Tensor) -> torch.Tensor:
        return x.float() / 127.5 - 1.0

    def describe(self) -> dict:
        return {"name": self.name, "paired": self.paired, "n_a": len(self.a), "n_b": len(self.b),
                "shape_a": list(self.a.shape[1:]), "shape_b": list(self.b.shape[1:]), **self.info}


def _uint8(x: torch.Tensor) -> torch.Tensor:
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def _derive(name: str, images: torch.Tensor, batch: int = 2048) -> torch.Tensor:
    """uint8 images -> uint8 images through the named transform (in batches: never all of them as floats)."""
    if len(images) == 0:
        return images
    return torch.cat([_uint8(apply_transform(name, TranslationData.as_float(images[i:i + batch])))
                      for i in range(0, len(images), batch)])


def _subfolders(p: Path) -> tuple[Path, Path] | None:
    a, b = p / "A", p / "B"
    return (a, b) if p.is_dir() and a.is_dir() and b.is_dir() else None


def has_ab_folders(source: str | Path) -> bool:
    """Whether `source` is a folder holding the two domains as A/ and B/."""
    return _subfolders(Path(source).expanduser()) is not None


def _paired_folders(a_dir: Path, b_dir: Path) -> tuple[ImageDataset, ImageDataset]:
    """A/ and B/ matched by file name without suffix (a.png pairs with a.jpg)."""
    fa = {f.relative_to(a_dir).with_suffix("").as_posix(): f for f in image_files(a_dir)}
    fb = {f.relative_to(b_dir).with_suffix("").as_posix(): f for f in image_files(b_dir)}
    common = sorted(set(fa) & set(fb))
    if not common:
        raise DataError(f"{a_dir} and {b_dir} share no file names: paired data needs A/x.png with B/x.png")
    da = load_image_files([fa[k] for k in common], a_dir)
    db = load_image_files([fb[k] for k in common], b_dir)
    stems = lambda d, root: [Path(f).relative_to(root).with_suffix("").as_posix() for f in d.info["files"]]  # noqa
    if stems(da, a_dir) != stems(db, b_dir):             # an unreadable file on one side: keep the pairs both read
        keep = sorted(set(stems(da, a_dir)) & set(stems(db, b_dir)))
        ia = [stems(da, a_dir).index(k) for k in keep]
        ib = [stems(db, b_dir).index(k) for k in keep]
        da, db = ImageDataset(da.images[ia], name=da.name), ImageDataset(db.images[ib], name=db.name)
    return da, db


def _limit(x: torch.Tensor | None, n: int | None) -> torch.Tensor | None:
    return x if x is None or not n else x[:n]


def load_translation_data(source: str | Path, paired: bool, split: str = "train", transform: str | None = None,
                          source_b: str | Path | None = None, limit: int | None = None) -> TranslationData:
    """The two domains (see the module's docstring); one DataError / UserError line for anything unusable."""
    if transform:
        get_transform(transform)
    p = Path(source).expanduser()
    sub = _subfolders(p)
    if sub and not transform and not source_b:
        da, db = _paired_folders(*sub) if paired else (load_images(sub[0]), load_images(sub[1]))
        da.images, db.images = _limit(da.images, limit), _limit(db.images, limit)
        return TranslationData(da.images, db.images, paired, name=p.name,
                               info={"source": str(p), "layout": "A/ and B/ folders"})
    if source_b:
        if paired:
            raise UserError("two sources make unpaired data; paired data is one folder with A/ and B/, or one "
                            "source with a transform")
        da, db = load_images(source, split), load_images(source_b, split)
        a = _derive(transform, _limit(da.images, limit)) if transform else _limit(da.images, limit)
        return TranslationData(a, _limit(db.images, limit), False, _limit(da.labels, limit),
                               _limit(db.labels, limit), f"{da.name} | {db.name}", da.license,
                               {"source": str(source), "source_b": str(source_b), "transform": transform})
    if not transform:
        raise UserError(f"{source}: one source needs a transform that derives domain A (e.g. strokes, edges, "
                        f"down4), or give a folder with A/ and B/ subfolders")
    data = load_images(source, split)
    return _from_one_source(data, paired, transform, limit, str(source), split)


def _from_one_source(data: ImageDataset, paired: bool, transform: str, limit: int | None, source: str,
                     split: str) -> TranslationData:
    images, labels = data.images, data.labels
    info = {"source": source, "split": split, "transform": transform}
    if paired:
        b, lb = _limit(images, limit), _limit(labels, limit)
        return TranslationData(_derive(transform, b), b, True, lb, lb, data.name, data.license, info)
    ia, ib = slice(0, None, 2), slice(1, None, 2)         # even positions -> A, odd -> B: no image in both
    a = _derive(transform, _limit(images[ia], limit))
    la = None if labels is None else _limit(labels[ia], limit)
    lb = None if labels is None else _limit(labels[ib], limit)
    info["halves"] = "A: the transform of the even-numbered images, B: the odd-numbered ones"
    return TranslationData(a, _limit(images[ib], limit), False, la, lb, data.name, data.license, info)
