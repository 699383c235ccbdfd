"""Image-to-image networks (issue 23): the U-Net of pix2pix, the ResNet-block generator of CycleGAN, the
encoder-decoder of DiscoGAN, and the PatchGAN discriminator; registered as the translation families pix2pix,
cyclegan, discogan and dualgan (super-resolution: srresnet.py).

Every generator maps (N, C_in, H, W) in [-1, 1] to (N, C_out, H, W) in [-1, 1] (tanh). Widths and depths are
config fields; the defaults train on one CPU thread at 28 px.

- U-Net (Isola et al. 2017): a 3x3 stem, `depth` [Conv 4x4 s2 + norm + LeakyReLU 0.2] down-samplings (channels
  double up to 8x), a 3x3 bottleneck, `depth` [ConvT 4x4 s2 + norm + (dropout) + ReLU] up-samplings, each fed the
  encoder's features of its resolution (skip connections), a 3x3 head, tanh. 28 px with depth 2: 28 -> 14 -> 7.
  `skips=False` is the same network without skips: DiscoGAN's encoder-decoder (Kim et al. 2017).
- ResNet generator (Zhu et al. 2017; Johnson et al. 2016): c7s1-w, `depth` stride-2 3x3 convs, `blocks` residual
  blocks, `depth` fractionally strided 3x3 convs, c7s1-C_out, reflection padding, instance norm.
- PatchGAN (Isola et al. 2017): `critic_layers` [Conv 4x4 s2] then two Conv 4x4 s1, one score per patch. Its
  receptive field is 9 * 2^n - 2 px: n = 3 is the paper's 70x70 for 256 px; for our 28 px images we use n = 1, a
  16x16 PatchGAN (a 12x12 map of scores, each patch a bit over half the digit), and n = 2 (34 px: every score sees
  the whole image) for DiscoGAN's image-level discriminator. Conditional (pix2pix): it scores concat(A, B).

Roles: `generator` (A -> B), `critic` (judges B; pix2pix: the pair); the cycle families add `generator_ba`
(B -> A) and `critic_a` (judges A).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..config import Config
from ..registry import ARCHITECTURES
from .base import Family

NORMS = ("instance", "batch", "none")
KIND = "translation-model"
# family -> how it translates: "paired" (A -> B from pairs), "cycle" (A <-> B, unpaired), "sr" (super-resolution)
TRANSLATION_KINDS = {"pix2pix": "paired", "cyclegan": "cycle", "discogan": "cycle", "dualgan": "cycle",
                     "srresnet": "sr", "srgan": "sr"}


def patch_receptive_field(layers: int) -> int:
    """The PatchGAN's receptive field in pixels with `layers` stride-2 convs (then two stride-1 4x4 convs)."""
    return 9 * 2 ** layers - 2


def norm_layer(kind: str, ch: int) -> nn.Module:
    if kind == "instance":
        return nn.InstanceNorm2d(ch, affine=True)
    if kind == "batch":
        return nn.BatchNorm2d(ch)
    return nn.Identity()


@dataclass
class TranslatorConfig(Config):
    """One config for every translation family; each family below changes only the defaults."""
    in_channels: int = 1        # domain A
    out_channels: int = 1       # domain B
    resolution: int = 28        # A's side in pixels (B's is resolution * upscale)
    upscale: int = 1            # super-resolution factor (srresnet / srgan: 2 or 4; 1 for the others)
    width: int = 32             # the generator's first layer's channels
    depth: int = 2              # down-samplings of the U-Net / encoder-decoder / ResNet generator
    blocks: int = 3             # residual blocks (ResNet generator, SRResNet)
    norm: str = "instance"      # instance | batch | none (generators and critics)
    dropout: float = 0.0        # the U-Net decoder's dropout while training (pix2pix's noise: 0.5)
    critic_width: int = 32
    critic_layers: int = 1      # PatchGAN: stride-2 convs (1: 16x16 patches); SRGAN discriminator: stride-2 pairs

    def __post_init__(self) -> None:
        for name in ("in_channels", "out_channels"):
            if getattr(self, name) not in (1, 3):
                raise ValueError(f"{name} must be 1 or 3, not {getattr(self, name)}")
        if not 4 <= self.resolution <= 1024:
            raise ValueError(f"resolution must be in [4, 1024], not {self.resolution}")
        if self.upscale not in (1, 2, 4, 8):
            raise ValueError(f"upscale must be 1, 2, 4 or 8, not {self.upscale}")
        for name, hi in (("width", 1024), ("critic_width", 1024), ("blocks", 64)):
            if not 1 <= getattr(self, name) <= hi:
                raise ValueError(f"{name} must be in [1, {hi}], not {getattr(self, name)}")
        if not 0 <= self.depth <= 6 or not 0 <= self.critic_layers <= 6:
            raise ValueError("depth and critic_layers must be in [0, 6]")
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {', '.join(NORMS)}, not {self.norm!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), not {self.dropout}")
        self.check_shapes()

    def check_shapes(self) -> None:
        if self.upscale != 1:
            raise ValueError("upscale is for the super-resolution families (srresnet, srgan): 1 here")
        if self.resolution % 2 ** self.depth:
            raise ValueError(f"resolution {self.resolution} must be divisible by 2^depth = {2 ** self.depth}")
        self.check_critic()

    def check_critic(self) -> None:
        if self.out_resolution >> (self.critic_layers + 1) < 1:
            raise ValueError(f"critic_layers {self.critic_layers} is too many for {self.out_resolution} px")

    @property
    def out_resolution(self) -> int:
        return self.resolution * self.upscale


@dataclass
class Pix2PixConfig(TranslatorConfig):
    dropout: float = 0.5


@dataclass
class CycleGANConfig(TranslatorConfig):
    width: int = 16
    blocks: int = 4


@dataclass
class DiscoGANConfig(TranslatorConfig):
    width: int = 16
    norm: str = "batch"
    critic_layers: int = 2


@dataclass
class DualGANConfig(TranslatorConfig):
    width: int = 16


# ---------------------------------------------------------------- generators

def _down(cin: int, cout: int, norm: str, first: bool = False) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 4, 2, 1), nn.Identity() if first else norm_layer(norm, cout),
                         nn.LeakyReLU(0.2, True))


def _up(cin: int, cout: int, norm: str, dropout: float) -> nn.Sequential:
    drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1), norm_layer(norm, cout), drop, nn.ReLU(True))


class UNet(nn.Module):
    """(N, cin, H, W) -> (N, cout, H, W); with `skips` each decoder level reads the encoder's features."""

    def __init__(self, cfg: TranslatorConfig, cin: int, cout: int, skips: bool = True):
        super().__init__()
        self.skips = skips
        w = cfg.width
        widths = [w * 2 ** min(i, 3) for i in range(cfg.depth + 1)]          # w, 2w, 4w, 8w, 8w ...
        k = 2 if skips else 1
        self.stem = nn.Sequential(nn.Conv2d(cin, w, 3, 1, 1), nn.LeakyReLU(0.2, True))      # (N, w, H, W)
        self.downs = nn.ModuleList(_down(widths[i], widths[i + 1], cfg.norm) for i in range(cfg.depth))
        self.mid = nn.Sequential(nn.Conv2d(widths[-1], widths[-1], 3, 1, 1), norm_layer(cfg.norm, widths[-1]),
                                 nn.ReLU(True))                                  # (N, 2^d w, H / 2^d, W / 2^d)
        self.ups = nn.ModuleList(_up(widths[i + 1] * k, widths[i], cfg.norm, cfg.dropout)
                                 for i in reversed(range(cfg.depth)))
        self.head = nn.Sequential(nn.Conv2d(w * k, cout, 3, 1, 1), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [self.stem(x)]
        for down in self.downs:
            feats.append(down(feats[-1]))
        h = self.mid(feats[-1])
        for level, up in zip(reversed(range(len(self.ups))), self.ups):
            h = up(torch.cat([h, feats[level + 1]], 1) if self.skips else h)
        return self.head(torch.cat([h, feats[0]], 1) if self.skips else h)


class ResidualBlock(nn.Module):
    def __init__(self, ch: int, norm: str):
        super().__init__()
        self.body = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), norm_layer(norm, ch), nn.ReLU(True),
                                  nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), norm_layer(norm, ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResNetGenerator(nn.Module):
    """CycleGAN's generator: c7s1-w, d2w, d4w, R4w x blocks, u2w, uw, c7s1-cout (for depth 2)."""

    def __init__(self, cfg: TranslatorConfig, cin: int, cout: int):
        super().__init__()
        w, n = cfg.width, cfg.depth
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(cin, w, 7), norm_layer(cfg.norm, w), nn.ReLU(True)]
        for i in range(n):
            layers += [nn.Conv2d(w * 2 ** i, w * 2 ** (i + 1), 3, 2, 1), norm_layer(cfg.norm, w * 2 ** (i + 1)),
                       nn.ReLU(True)]
        layers += [ResidualBlock(w * 2 ** n, cfg.norm) for _ in range(cfg.blocks)]
        for i in reversed(range(n)):
            layers += [nn.ConvTranspose2d(w * 2 ** (i + 1), w * 2 ** i, 3, 2, 1, output_padding=1),
                       norm_layer(cfg.norm, w * 2 ** i), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(w, cout, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


# ---------------------------------------------------------------- the PatchGAN

class PatchGAN(nn.Module):
    """(N, cin, H, W) -> (N, 1, h, w) patch scores (logits); `score(x)` is their mean per image (N,)."""

    def __init__(self, cfg: TranslatorConfig, cin: int):
        super().__init__()
        cw, n = cfg.critic_width, cfg.critic_layers
        chans = [cw * 2 ** min(i, 3) for i in range(n + 1)]
        layers: list[nn.Module] = [_down(cin, chans[0], cfg.norm, first=True)] if n else []
        layers += [_down(chans[i], chans[i + 1], cfg.norm) for i in range(n - 1)]
        c = chans[n - 1] if n else cin
        layers += [nn.Conv2d(c, chans[n], 4, 1, 1), norm_layer(cfg.norm, chans[n]) if n else nn.Identity(),
                   nn.LeakyReLU(0.2, True), nn.Conv2d(chans[n], 1, 4, 1, 1)]
        self.net = nn.Sequential(*layers)
        self.receptive_field = patch_receptive_field(n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


# ---------------------------------------------------------------- families

def _unet(skips: bool):
    def make(cfg: TranslatorConfig, backwards: bool = False) -> nn.Module:
        cin, cout = (cfg.out_channels, cfg.in_channels) if backwards else (cfg.in_channels, cfg.out_channels)
        return UNet(cfg, cin, cout, skips)
    return make


def _resnet(cfg: TranslatorConfig, backwards: bool = False) -> nn.Module:
    cin, cout = (cfg.out_channels, cfg.in_channels) if backwards else (cfg.in_channels, cfg.out_channels)
    return ResNetGenerator(cfg, cin, cout)


def cycle_roles(make_generator) -> dict:
    """The four networks of a cycle family: G: A -> B, F: B -> A, D_B (`critic`) and D_A (`critic_a`)."""
    return {"generator": make_generator, "generator_ba": lambda cfg: make_generator(cfg, backwards=True),
            "critic": lambda cfg: PatchGAN(cfg, cfg.out_channels),
            "critic_a": lambda cfg: PatchGAN(cfg, cfg.in_channels)}


ARCHITECTURES.register("pix2pix")(Family(Pix2PixConfig, {
    "generator": _unet(True), "critic": lambda cfg: PatchGAN(cfg, cfg.in_channels + cfg.out_channels)}, KIND))
ARCHITECTURES.register("cyclegan")(Family(CycleGANConfig, cycle_roles(_resnet), KIND))
ARCHITECTURES.register("discogan")(Family(DiscoGANConfig, cycle_roles(_unet(False)), KIND))
ARCHITECTURES.register("dualgan")(Family(DualGANConfig, cycle_roles(_unet(True)), KIND))
