"""`Translator`: a translation model (pix2pix, CycleGAN, DiscoGAN, DualGAN, SRResNet, SRGAN) opened for use.
Images are float tensors (N, C, H, W) in [-1, 1] (white strokes on black are +1 on -1), as everywhere in
GAN Studio; see translation/__init__.py for the whole API with an example.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ..bundle import Bundle, save_bundle
from ..catalog import open_model
from ..checks import require_finite_network
from ..data.transforms import apply_transform
from ..errors import UserError
from ..image_input import load_target
from ..models.base import build
from ..models.translators import KIND, TRANSLATION_KINDS
from .meta import check_family, translation_meta

DIRECTIONS = ("a2b", "b2a")
GENERATOR_OF = {"a2b": "generator", "b2a": "generator_ba"}


class Translator:
    """A translation model ready to translate (its generators in eval mode on `device`)."""

    def __init__(self, bundle: Bundle, device: str | torch.device = "cpu"):
        if bundle.kind != KIND:
            raise UserError(f"{bundle.name} is a {bundle.kind}, not a translation model (pix2pix, cyclegan, "
                            f"discogan, dualgan, srresnet or srgan)")
        block = bundle.meta.get("translation")
        if not isinstance(block, dict) or block.get("family") not in TRANSLATION_KINDS:
            raise UserError(f"{bundle.name}: a translation-model file without its translation metadata")
        self.bundle, self.meta, self.info = bundle, bundle.meta, block
        self.device = torch.device(device)
        self._nets = {}
        for d in self.directions:
            role = GENERATOR_OF[d]
            if role not in bundle.networks:
                raise UserError(f"{bundle.name}: the file holds no {role} network for direction {d}")
            net = bundle.networks[role]
            require_finite_network(net, f"{bundle.name}'s {role}")
            self._nets[d] = net.to(self.device).eval()

    @classmethod
    def open(cls, name_or_path: str | Path, device: str | torch.device = "cpu") -> Translator:
        """A model name from the catalogue or a file path; one UserError line for anything else."""
        return cls(open_model(str(name_or_path)), device)

    # ------------------------------------------------------------ what it is
    name = property(lambda self: self.bundle.name)
    path = property(lambda self: self.bundle.path)
    family = property(lambda self: self.info["family"])            # pix2pix | cyclegan | ... | srgan
    kind = property(lambda self: self.info["kind"])                # paired | cycle | sr
    drawable = property(lambda self: bool(self.info.get("drawable")))   # domain A is a pen drawing on black
    domains = property(lambda self: tuple(self.info["domains"]))   # (name of A, name of B)
    directions = property(lambda self: tuple(self.info["directions"]))
    transform = property(lambda self: self.info.get("transform"))  # the named transform that made A from B
    pen_width = property(lambda self: self.info.get("pen_width"))  # px at input size, for a drawing canvas
    upscale_factor = property(lambda self: int(self.info.get("upscale", 1)))
    input_shape = property(lambda self: tuple(self.info["input_shape"]))     # (C, H, W) of A
    output_shape = property(lambda self: tuple(self.info["output_shape"]))   # (C, H, W) of B
    input_size = property(lambda self: self.input_shape[-1])
    output_size = property(lambda self: self.output_shape[-1])
    in_channels = property(lambda self: self.input_shape[0])
    out_channels = property(lambda self: self.output_shape[0])
    metrics = property(lambda self: dict(self.meta.get("metrics") or {}))

    def shapes(self, direction: str = "a2b") -> tuple[tuple[int, int, int], tuple[int, int, int]]:
        """((C, H, W) it takes, (C, H, W) it gives) in `direction`."""
        self._check_direction(direction)
        return (self.input_shape, self.output_shape) if direction == "a2b" else (self.output_shape, self.input_shape)

    def describe(self) -> dict[str, Any]:
        return dict(self.info, name=self.name, path=str(self.path) if self.path else None)

    # ------------------------------------------------------------ translating
    def _check_direction(self, direction: str) -> None:
        if direction not in self.directions:
            raise UserError(f"{self.name} ({self.family}) translates {' and '.join(self.directions)}, "
                            f"not {direction!r}")

    def check_input(self, x: torch.Tensor, direction: str = "a2b") -> torch.Tensor:
        """x as (N, C, H, W) float on the model's device, or one UserError line saying what shape it needs."""
        want, _ = self.shapes(direction)
        if not isinstance(x, torch.Tensor):
            raise UserError(f"{self.name} translates image tensors, not {type(x).__name__}")
        if x.ndim == 3:
            x = x[None]
        c, h, w = want
        if x.ndim != 4 or x.shape[1] != c or x.shape[-2:] != (h, w):
            got = "x".join(str(s) for s in x.shape[-3:]) if x.ndim >= 3 else str(tuple(x.shape))
            raise UserError(f"{self.name} ({direction}) takes {c}-channel {h}x{w} images, not {got} "
                            f"(channels x height x width)")
        if not torch.isfinite(x).all():
            raise UserError("the input image holds NaN or infinity")
        return x.to(self.device, torch.float32)

    @torch.no_grad()
    def translate(self, x: torch.Tensor, direction: str = "a2b") -> torch.Tensor:
        """(N, C, H, W) in [-1, 1] -> the other domain (N, C', H', W') in [-1, 1], float32 on the CPU. A (C, H, W)
        image gives (C', H', W')."""
        single = isinstance(x, torch.Tensor) and x.ndim == 3
        x = self.check_input(x, direction)
        y = self._nets[direction](x).clamp(-1, 1).float().cpu()
        return y[0] if single else y

    @torch.no_grad()
    def round_trip(self, x: torch.Tensor, direction: str = "a2b") -> torch.Tensor:
        """x translated and back (a2b: A -> B -> A), the cycle's reconstruction; cycle models only."""
        if self.kind != "cycle":
            raise UserError(f"{self.name} is a {self.family} model: only cycle models (cyclegan, discogan, dualgan) "
                            f"translate back")
        back = "b2a" if direction == "a2b" else "a2b"
        single = x.ndim == 3
        y = self.translate(self.translate(x, direction), back)
        return y[0] if single and y.ndim == 4 else y

    @torch.no_grad()
    def bicubic(self, x: torch.Tensor) -> torch.Tensor:
        """The bicubic up-scaling of a super-resolution model's input: the baseline it is compared with."""
        single = isinstance(x, torch.Tensor) and x.ndim == 3
        x = self.check_input(x, "a2b").cpu()
        y = F.interpolate(x, scale_factor=self.upscale_factor, mode="bicubic", align_corners=False).clamp(-1, 1)
        return y[0] if single else y

    def derive_input(self, b: torch.Tensor) -> torch.Tensor:
        """Domain-A images made from domain-B ones (N, C, H, W) by the model's training transform (e.g. a digit's
        strokes, a 28 px digit's 7 px version): what a sample image looks like as this model's input."""
        if not self.transform:
            raise UserError(f"{self.name} was not trained with a named transform from B to A; give an A image")
        single = b.ndim == 3
        a = apply_transform(self.transform, b[None] if single else b)
        return a[0] if single else a

    def load_image(self, source, direction: str = "a2b", invert: bool = False) -> torch.Tensor:
        """An image file (path or bytes) fitted to the input of `direction`: (1, C, H, W) in [-1, 1]; one
        UserError line for an unreadable file."""
        return load_target(source, self.shapes(direction)[0], invert)


def open_translator(name_or_path: str | Path, device: str | torch.device = "cpu") -> Translator:
    return Translator.open(name_or_path, device)


def save_random_translator(path: str | Path, family: str = "pix2pix", *, config: dict | None = None,
                           domains: tuple[str, str] | None = None, transform: str | None = None, seed: int = 0,
                           half: bool = False) -> Path:
    """Write a translation model with random weights (tiny widths unless `config` says otherwise): a real file of
    the shipped format, for tests and for building a GUI before anything is trained."""
    check_family(family)
    sr = TRANSLATION_KINDS[family] == "sr"
    tiny = {"width": 4, "critic_width": 4, "blocks": 1} | ({} if sr else {"depth": 1})
    if transform is None and family == "pix2pix":
        transform = "strokes"
    if transform is None and sr:
        transform = f"down{(config or {}).get('upscale', 4)}"
    meta = translation_meta(family, tiny | (config or {}), domains=domains, transform=transform,
                            name=Path(path).stem, training={"command": "save_random_translator (random weights)",
                                                            "seed": seed, "step": 0, "seconds": 0.0})
    torch.manual_seed(seed)
    nets = {role: build(family, role, meta["config"]) for role in _roles(family)}
    return save_bundle(path, nets, meta, half=half)


def _roles(family: str) -> list[str]:
    from ..registry import ARCHITECTURES
    return list(ARCHITECTURES.get(family).roles)
