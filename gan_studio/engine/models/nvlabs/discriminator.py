"""StyleGAN2(-ADA) discriminator, rebuilt from an unpickled NVlabs `Discriminator` record.

Written from the stylegan2 paper and stylegan2-ada-pytorch's documented behaviour (the same network ships in
stylegan3 as `networks_stylegan2.py`): one block per resolution from the image's down to 8 px (`b{R}`), each a
1x1 fromRGB (the first block, or every block for 'skip'), a 3x3 conv and a 3x3 conv that halves the size through
the [1, 3, 3, 1] FIR filter, plus a 1x1 down-sampling skip for 'resnet' (both paths scaled by sqrt(0.5)); then
the 4 px epilogue `b4`: minibatch standard deviation, a 3x3 conv, an FC layer (our critic features) and the
output FC, projected on the label's embedding `cmap` when the model is conditional. Layers stored for fp16 run
in float32 here, as the original does with force_fp32. Only shapes and plain attributes are read in `__init__`.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import ModelFileError, UserError
from .generator import MappingNetwork
from .ops import FullyConnected, as_float, as_int_list, attr, child, downsample2d, tensor
from .stylegan2_ada import Conv2dLayer
from .unpickle import PersistentRecord

ARCHITECTURES = ("orig", "skip", "resnet")


def as_int(v) -> int:
    return int(round(as_float(v)))


def _architecture(rec: PersistentRecord) -> str:
    arch = str(attr(rec, "architecture", "resnet"))
    if arch not in ARCHITECTURES:
        raise ModelFileError(f"discriminator architecture {arch!r} is not supported")
    return arch


def _filter_buffer(module: nn.Module, rec: PersistentRecord, required: bool) -> None:
    module.register_buffer("resample_filter", tensor(rec, "resample_filter", required=required))


class DiscriminatorBlock(nn.Module):
    """(x at R px or None, img at R px or None) -> (x at R/2 px, img at R/2 px for 'skip', else None)."""

    def __init__(self, rec: PersistentRecord):
        super().__init__()
        self.in_channels, self.resolution = as_int(attr(rec, "in_channels")), as_int(attr(rec, "resolution"))
        self.img_channels = as_int(attr(rec, "img_channels"))
        self.architecture = _architecture(rec)
        _filter_buffer(self, rec, required=self.architecture == "skip")
        self.fromrgb = Conv2dLayer(child(rec, "fromrgb")) \
            if (self.in_channels == 0 or self.architecture == "skip") else None
        self.conv0 = Conv2dLayer(child(rec, "conv0"))
        self.conv1 = Conv2dLayer(child(rec, "conv1"))
        self.skip = Conv2dLayer(child(rec, "skip")) if self.architecture == "resnet" else None

    def forward(self, x: torch.Tensor | None, img: torch.Tensor | None):
        if self.fromrgb is not None:
            y = self.fromrgb(img)
            x = y if x is None else x + y
            img = downsample2d(img, self.resample_filter) if self.architecture == "skip" else None
        if self.skip is not None:
            gain = math.sqrt(0.5)
            return self.skip(x, gain=gain) + self.conv1(self.conv0(x), gain=gain), img
        return self.conv1(self.conv0(x)), img


class MinibatchStd(nn.Module):
    """Appends, per group of samples, the std over the group averaged over each channel slice and pixel.

    The group is min(group_size, N) (all of N when group_size is None); sample i belongs to group i mod N/G, as
    in the original. Where N is not a multiple of that size (the original fails there) the group shrinks to the
    largest divisor of N below it."""

    def __init__(self, rec: PersistentRecord):
        super().__init__()
        g = attr(rec, "group_size", 4)
        self.group_size = None if g is None else as_int(g)
        self.num_channels = as_int(attr(rec, "num_channels", 1))

    def group_of(self, n: int) -> int:
        g = n if self.group_size is None else max(min(self.group_size, n), 1)
        while n % g:
            g -= 1
        return g

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g, f = self.group_of(n), self.num_channels
        y = x.reshape(g, n // g, f, c // f, h, w)
        y = (y - y.mean(0)).square().mean(0)                             # (n/G, F, c/F, H, W) variance
        y = (y + 1e-8).sqrt().mean([2, 3, 4])                            # (n/G, F)
        y = y.reshape(1, n // g, f, 1, 1).expand(g, -1, -1, h, w).reshape(n, f, h, w)
        return torch.cat([x, y], 1)


class DiscriminatorEpilogue(nn.Module):
    """The 4 px head: features(x, img) -> (N, C4), the FC output; head(features, cmap) -> (N, 1)."""

    def __init__(self, rec: PersistentRecord):
        super().__init__()
        self.in_channels, self.resolution = as_int(attr(rec, "in_channels")), as_int(attr(rec, "resolution"))
        self.cmap_dim = as_int(attr(rec, "cmap_dim", 0))
        self.architecture = _architecture(rec)
        self.fromrgb = Conv2dLayer(child(rec, "fromrgb")) if self.architecture == "skip" else None
        mbstd = rec.child("mbstd")
        self.mbstd = MinibatchStd(mbstd) if isinstance(mbstd, PersistentRecord) else None
        self.conv = Conv2dLayer(child(rec, "conv"))
        self.fc = FullyConnected(child(rec, "fc"))
        self.out = FullyConnected(child(rec, "out"))
        want = (self.in_channels, self.in_channels + (self.mbstd.num_channels if self.mbstd is not None else 0))
        if tuple(self.conv.weight.shape[:2]) != want or self.out.weight.shape[0] != max(self.cmap_dim, 1):
            raise ModelFileError(f"a DiscriminatorEpilogue whose layers disagree with in_channels {self.in_channels}"
                                 f" / cmap_dim {self.cmap_dim}: not a network this reader knows")

    def features(self, x: torch.Tensor, img: torch.Tensor | None) -> torch.Tensor:
        if self.fromrgb is not None:
            x = x + self.fromrgb(img)
        if self.mbstd is not None:
            x = self.mbstd(x)
        return self.fc(self.conv(x).flatten(1))

    def head(self, features: torch.Tensor, cmap: torch.Tensor | None) -> torch.Tensor:
        x = self.out(features)
        if self.cmap_dim > 0:
            x = (x * cmap).sum(1, keepdim=True) * (1.0 / math.sqrt(self.cmap_dim))
        return x


class NVLabsDiscriminator(nn.Module):
    """forward(img, c=None) -> (N,) logits; features(img, c=None) -> (N, F), the epilogue's FC output.

    img: (N, img_channels, img_resolution, img_resolution) in the generator's range ([-1, 1]); c: (N, c_dim)
    label vectors (integer class ids (N,) are one-hot encoded), needed when c_dim > 0, ignored by `features`
    (the label enters only after the FC layer)."""

    def __init__(self, rec: PersistentRecord):
        super().__init__()
        if rec.class_name != "Discriminator":
            raise ModelFileError(f"a {rec.class_name}, not a StyleGAN2 Discriminator")
        self.c_dim = as_int(attr(rec, "c_dim", 0))
        self.img_resolution, self.img_channels = as_int(attr(rec, "img_resolution")), as_int(attr(rec, "img_channels"))
        log2 = int(round(math.log2(self.img_resolution)))
        self.block_resolutions = as_int_list(attr(rec, "block_resolutions", [2 ** i for i in range(log2, 2, -1)]))
        self.blocks = nn.ModuleDict({f"b{r}": DiscriminatorBlock(child(rec, f"b{r}")) for r in self.block_resolutions})
        self.mapping = MappingNetwork(child(rec, "mapping")) if self.c_dim > 0 else None
        self.b4 = DiscriminatorEpilogue(child(rec, "b4"))
        self._check()

    def _check(self) -> None:
        first = self.blocks[f"b{self.block_resolutions[0]}"] if self.block_resolutions else None
        if first is None or first.in_channels != 0 or first.resolution != self.img_resolution:
            raise ModelFileError("a Discriminator whose first block does not read the image: not a network this "
                                 "reader knows")
        cmap = 0 if self.mapping is None else self.mapping.w_dim
        if self.mapping is not None and (self.mapping.num_ws is not None or self.mapping.z_dim != 0):
            raise ModelFileError("a Discriminator whose label mapping is not a z-less, un-broadcast one")
        if cmap != self.b4.cmap_dim:
            raise ModelFileError(f"a Discriminator whose label mapping gives {cmap} values but whose epilogue "
                                 f"projects on {self.b4.cmap_dim}")

    def _check_img(self, img: torch.Tensor) -> torch.Tensor:
        want = (self.img_channels, self.img_resolution, self.img_resolution)
        if img.ndim != 4 or tuple(img.shape[1:]) != want:
            raise UserError(f"the discriminator takes images of shape (N, {', '.join(map(str, want))}), "
                            f"not {tuple(img.shape)}")
        return img.float()

    def _trunk(self, img: torch.Tensor) -> torch.Tensor:
        img = self._check_img(img)
        x = None
        for block in self.blocks.values():
            x, img = block(x, img)
        return self.b4.features(x, img)

    def _cmap(self, c: torch.Tensor | None, n: int) -> torch.Tensor | None:
        if self.c_dim == 0:
            if c is not None and c.numel() > 0:
                raise UserError("this discriminator is not conditional: it takes no class label")
            return None
        if c is None:
            raise UserError(f"this discriminator is conditional: it needs a class label vector c of {self.c_dim}")
        if c.ndim == 1 and not c.is_floating_point():
            c = F.one_hot(c.long(), self.c_dim)
        if tuple(c.shape) != (n, self.c_dim):
            raise UserError(f"class labels must have shape ({n}, {self.c_dim}), not {tuple(c.shape)}")
        return self.mapping(None, c)

    def features(self, img: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """(N, C, H, W) -> (N, F): the epilogue's FC output, before `out` and the label projection."""
        return self._trunk(img)

    def forward(self, img: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        cmap = self._cmap(c, img.shape[0])
        return self.b4.head(self._trunk(img), cmap).squeeze(1)
