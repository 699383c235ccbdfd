"""Standard FID features: the FID Inception-v3 of pytorch-fid (Seitzer), 2048-d pool3 features. Optional.

Nothing here is shipped or downloaded. The user who wants FIDs comparable with published ones provides the
weights file pytorch-fid uses,

    pt_inception-2015-12-05-6726825d.pth      (a plain state_dict, ~92 MB)
    https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth

and names it with `--features inception:PATH`, or sets GAN_STUDIO_INCEPTION=PATH and uses `--features inception`.
It is loaded with torch.load(weights_only=True): data, never code.

The network is written out here (no torchvision): Inception-v3 with pytorch-fid's FID blocks, which reproduce
TensorFlow's graph of 2015 — FIDInceptionA/C/E_1 average-pool without counting the zero padding, FIDInceptionE_2
max-pools — and the same module names, so the file's keys load as they are. Input as pytorch-fid feeds it:
resized to 299x299 bilinearly (align_corners=False, no antialiasing), in [-1, 1] (pytorch-fid scales its [0, 1]
input by 2x - 1; ours already is in [-1, 1], and resizing commutes with that affine map), grayscale repeated to
3 channels (what PIL's convert("RGB") does to a grayscale PNG).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ModelFileError, UserError
from ..registry import FEATURES
from ..torchload import load_weights
from .extractor import FeatureExtractor

WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = f"https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/{WEIGHTS_FILE}"
WEIGHTS_SHA256_PREFIX = "6726825d"     # torch-hub naming: the file name carries its sha256 prefix
ENV_VAR = "GAN_STUDIO_INCEPTION"
FC_SHAPE = (1008, 2048)                # the 2015 graph's 1008-way classifier (torchvision's has 1000)


# ---------------------------------------------------------------- the network (key names as pytorch-fid's)

class BasicConv2d(nn.Module):
    def __init__(self, cin: int, cout: int, **kw) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kw)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg_pool_tf(x: torch.Tensor) -> torch.Tensor:
    """3x3 stride-1 average pool that, like TensorFlow's, does not count the zero padding."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class FIDInceptionA(nn.Module):
    def __init__(self, cin: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(cin, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), b5, b3, self.branch_pool(_avg_pool_tf(x))], 1)


class InceptionB(nn.Module):          # Mixed_6a: 35x35 -> 17x17
    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), b3, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class FIDInceptionC(nn.Module):
    def __init__(self, cin: int, channels_7x7: int) -> None:
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = x
        for conv in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4,
                     self.branch7x7dbl_5):
            d = conv(d)
        return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(_avg_pool_tf(x))], 1)


class InceptionD(nn.Module):          # Mixed_7a: 17x17 -> 8x8
    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([b3, b7, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class FIDInceptionE(nn.Module):
    """Mixed_7b (pool "avg": FIDInceptionE_1) and Mixed_7c (pool "max": FIDInceptionE_2)."""

    def __init__(self, cin: int, pool: str) -> None:
        super().__init__()
        self.pool = pool
        self.branch1x1 = BasicConv2d(cin, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(cin, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        pooled = _avg_pool_tf(x) if self.pool == "avg" else F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        return torch.cat([self.branch1x1(x), b3, d, self.branch_pool(pooled)], 1)


class FIDInceptionV3(nn.Module):
    """(N, 3, 299, 299) in [-1, 1] -> pool3 features (N, 2048)."""

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b = FIDInceptionA(192, pool_features=32)
        self.Mixed_5c = FIDInceptionA(256, pool_features=64)
        self.Mixed_5d = FIDInceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
        self.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
        self.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
        self.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = FIDInceptionE(1280, pool="avg")
        self.Mixed_7c = FIDInceptionE(2048, pool="max")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))      # (N, 64, 147, 147)
        x = F.max_pool2d(x, kernel_size=3, stride=2)                           # (N, 64, 73, 73)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))                          # (N, 192, 71, 71)
        x = F.max_pool2d(x, kernel_size=3, stride=2)                           # (N, 192, 35, 35)
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a, self.Mixed_6b, self.Mixed_6c,
                      self.Mixed_6d, self.Mixed_6e, self.Mixed_7a, self.Mixed_7b, self.Mixed_7c):
            x = block(x)                                                       # ... (N, 2048, 8, 8)
        return F.adaptive_avg_pool2d(x, 1).flatten(1)                          # (N, 2048)


# ---------------------------------------------------------------- the weights file

def where_to_get() -> str:
    return (f"the inception features need pytorch-fid's weights file {WEIGHTS_FILE} (not shipped; nothing is "
            f"downloaded): get it from {WEIGHTS_URL}, then use --features inception:PATH or set {ENV_VAR}=PATH")


def weights_path(path: str | Path | None = None) -> Path:
    """The weights file: `path`, else $GAN_STUDIO_INCEPTION; a UserError saying where to get it otherwise."""
    path = path or os.environ.get(ENV_VAR)
    if not path:
        raise UserError(where_to_get())
    path = Path(path).expanduser()
    if not path.is_file():
        raise UserError(f"{path}: no such file; {where_to_get()}")
    return path


def _wrong_file(path: Path, why: str) -> UserError:
    return UserError(f"{path} is not pytorch-fid's FID Inception weights ({WEIGHTS_FILE}): {why}")


def load_state(path: Path) -> dict[str, torch.Tensor]:
    """The file's tensors, checked against the network's keys and shapes (fc must be the 1008-way one)."""
    try:
        sd = load_weights(path, path.name)                     # weights only: a file holding code is refused
    except ModelFileError as exc:
        raise _wrong_file(path, str(exc).removeprefix(f"{path.name}: ")) from None
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise _wrong_file(path, "it is not a plain state_dict of tensors")
    want = {k: v.shape for k, v in FIDInceptionV3().state_dict().items() if not k.endswith("num_batches_tracked")}
    missing = [k for k in want if k not in sd]
    if missing:
        raise _wrong_file(path, f"{len(missing)} of its {len(want)} tensors are missing (e.g. {missing[0]})")
    bad = [k for k, s in want.items() if tuple(sd[k].shape) != tuple(s)]
    if bad:
        raise _wrong_file(path, f"{bad[0]} has shape {tuple(sd[bad[0]].shape)}, not {tuple(want[bad[0]])}")
    fc = sd.get("fc.weight")
    if fc is None or tuple(fc.shape) != FC_SHAPE:
        got = "no fc.weight" if fc is None else f"fc.weight {tuple(fc.shape)}"
        raise _wrong_file(path, f"{got}, not the 2015 graph's {FC_SHAPE} (torchvision's Inception gives other "
                                f"FIDs)")
    return {k: sd[k].float() for k in want}


def _sha256_prefix(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:8]


# ---------------------------------------------------------------- the extractor

@FEATURES.register("inception")
class InceptionFeatures(FeatureExtractor):
    """pool3 features (N, 2048) of the FID Inception. `standard` tells whether the file is byte-identical to
    pytorch-fid's published one (its sha256 starts with 6726825d): only then are FIDs comparable with papers."""
    name = "inception"
    dim = 2048

    def __init__(self, path: str | Path | None = None, device=None):
        self.path = weights_path(path)
        self.net = FIDInceptionV3().eval()
        self.net.load_state_dict(load_state(self.path), strict=False)   # all but num_batches_tracked (unused)
        self.net.requires_grad_(False)
        self.sha256 = _sha256_prefix(self.path)
        self.standard = self.sha256 == WEIGHTS_SHA256_PREFIX
        self.device = torch.device(device or "cpu")
        self.net.to(self.device)

    def to(self, device) -> InceptionFeatures:
        if device is not None and torch.device(device) != self.device:
            self.device = torch.device(device)
            self.net.to(self.device)
        return self

    def info(self) -> dict:
        return {"features_weights": str(self.path), "features_sha256": self.sha256,
                "features_standard": self.standard}

    def trained_on(self) -> dict | None:
        return {"name": "ImageNet (pytorch-fid's FID Inception)", "general": True}

    @staticmethod
    def prepare(images: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) in [-1, 1], C = 1 or 3 -> (N, 3, 299, 299) in [-1, 1], as pytorch-fid feeds it."""
        x = images.float()
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        elif x.shape[1] != 3:
            raise UserError(f"the inception features take 1- or 3-channel images, not {x.shape[1]} channels")
        return F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)

    @torch.no_grad()
    def __call__(self, images: torch.Tensor, batch_size: int = 32) -> torch.Tensor:
        outs = []
        for i in range(0, images.shape[0], batch_size):
            x = self.prepare(images[i:i + batch_size].to(self.device))
            outs.append(self.net(x).double().cpu())
        return torch.cat(outs) if outs else torch.zeros(0, self.dim, dtype=torch.float64)
