"""Qt-free jobs of the training panel, run in TaskWorkers: dataset checks, training, FID of a checkpoint.

`run_training` is the engine's `train` generator with the worker's pause-aware clock; closing it (Stop, or
the window closing) closes `train`, which writes the checkpoint.
"""
from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..bundle import load_bundle
from ..catalog import shipped_dir, user_dir
from ..data import load_images
from ..errors import UserError
from ..metrics.evaluate import generated_features
from ..metrics.features import LENET_FILE, get_extractor
from ..metrics.fid import fid_from_features
from ..training.loop import TrainConfig, train
from .translation_training import is_translation, translation_command_line

FID_FEATURES = "lenet-mnist"


@dataclass
class DatasetInfo:
    path: str
    n: int
    shape: tuple[int, int, int]          # (C, H, W)
    name: str
    labels: bool

    @property
    def fid_ok(self) -> bool:
        """lenet-mnist features describe MNIST-like digits: one channel, 28 (or 32, centre-cropped) pixels."""
        return self.shape[0] == 1 and self.shape[1] in (28, 32)

    def describe(self) -> str:
        c, h, w = self.shape
        return f"{self.n:,} images · {c}×{h}×{w}" + (" · labelled" if self.labels else "")


def check_dataset(path: str, seq: int) -> tuple[int, DatasetInfo | None, str]:
    """Worker thread: load the dataset once to validate it -> (seq, info, '') or (seq, None, the problem)."""
    try:
        data = load_images(path, "train")
    except UserError as exc:
        return seq, None, str(exc)
    if len(data) == 0:
        return seq, None, f"{path} holds no images"
    info = DatasetInfo(str(path), len(data), tuple(data.images.shape[1:]), data.name, data.labels is not None)
    return seq, info, ""


def fid_unavailable(info: DatasetInfo | None) -> str:
    """Why periodic FID cannot run for this dataset ('' when it can)."""
    if not (shipped_dir() / LENET_FILE).is_file():
        return f"FID needs the {FID_FEATURES} feature network ({shipped_dir() / LENET_FILE} is missing)"
    if info is None:
        return "FID needs a valid dataset"
    if not info.fid_ok:
        c, h, _ = info.shape
        return (f"FID uses {FID_FEATURES} features, made for MNIST-like 1-channel 28 px digits; "
                f"this dataset is {c}×{h}×{h}")
    return ""


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "model"


def unique_path(folder: Path, stem: str, suffix: str = ".safetensors") -> Path:
    """folder/stem.safetensors, or stem-2, stem-3 … when taken."""
    path, i = folder / f"{stem}{suffix}", 2
    while path.exists():
        path, i = folder / f"{stem}-{i}{suffix}", i + 1
    return path


def default_output(data: str, arch: str, loss: str) -> Path:
    stem = Path(data.rstrip("/")).stem if data else "data"
    return unique_path(user_dir(), slug(f"{stem}-{arch}-{loss}"))


def command_line(cfg: TrainConfig, out: str | Path, resume: bool = False) -> str:
    """The `gan-studio train` call that runs the same training (recorded in the model's metadata); for an
    image-to-image recipe, the `gan-studio train-translation` call."""
    if is_translation(cfg.arch):
        return translation_command_line(cfg, out, resume)
    q = shlex.quote
    parts = [f"gan-studio train --data {q(cfg.data)} --arch {cfg.arch}"]
    if cfg.arch_config:
        parts.append(f"--arch-config {q(json.dumps(cfg.arch_config, separators=(', ', ': ')))}")
    parts.append(f"--loss {cfg.loss}")
    for flag, value in (("--reg", cfg.reg), ("--reg-weight", cfg.reg_weight), ("--lr", cfg.lr),
                        ("--n-critic", cfg.n_critic), ("--max-minutes", cfg.max_minutes)):
        if value is not None:
            parts.append(f"{flag} {value:g}" if isinstance(value, float) else f"{flag} {value}")
    switches = (("--sn", "sn"), ("--sn-generator", "sn_generator"), ("--conditional", "conditional"),
                ("--info", "info"))
    parts += [flag for flag, key in switches if getattr(cfg, key, False)]
    if cfg.options:
        parts.append(f"--options {q(json.dumps(cfg.options))}")
    parts.append(f"--steps {cfg.steps} --batch {cfg.batch} --seed {cfg.seed} --checkpoint-every "
                 f"{cfg.checkpoint_every} --sample-every {cfg.sample_every} --out {q(str(out))}")
    return " ".join(parts) + (" --resume" if resume else "")


@dataclass
class TrainingJob:
    cfg: TrainConfig
    out: Path
    resume: bool = False
    clock: Callable[[], float] | None = None     # the worker's pause-aware clock

    @property
    def command(self) -> str:
        return command_line(self.cfg, self.out, self.resume)


def run_training(job: TrainingJob) -> Iterator:
    """Worker thread: the engine's Progress items. Closing this closes `train` (it saves a checkpoint)."""
    job.out.parent.mkdir(parents=True, exist_ok=True)
    kw = {"clock": job.clock} if job.clock is not None else {}
    yield from train(job.cfg, job.out, resume=job.resume, command=job.command, **kw)


@dataclass
class FIDJob:
    checkpoint: Path
    step: int
    data: str
    n: int = 1000
    device: object = None
    real: torch.Tensor | None = field(default=None, repr=False)   # features of the first n training images


def run_fid(job: FIDJob) -> Iterator[dict]:
    """Worker thread: {"stage", "done", "total"} per batch, then {"step", "fid", "n", "real", "data"} (FID of the
    checkpoint's generator against the first n training images, lenet-mnist features)."""
    extractor = get_extractor(FID_FEATURES)
    if job.real is None or job.real.shape[0] != job.n:
        data = load_images(job.data, "train")
        n = min(job.n, len(data))
        job.real = extractor(data.as_float(index=slice(0, n)))
    G = load_bundle(job.checkpoint).generator().eval().to(job.device or "cpu")
    fake = None
    for done, out in generated_features(G, job.real.shape[0], extractor, device=job.device):
        fake = out if out is not None else fake
        yield {"stage": "generating", "done": done, "total": job.real.shape[0]}
    yield {"step": job.step, "fid": fid_from_features(job.real, fake), "n": job.real.shape[0], "real": job.real,
           "data": job.data}
