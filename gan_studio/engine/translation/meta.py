"""The metadata of a translation model (bundle kind "translation-model"): what the `translation` block holds and the
one function that writes it, for trained models (the recipes) and random-weight ones (tests) alike.

    "translation": {"family": "pix2pix", "kind": "paired", "drawable": true, "domains": ["strokes", "digits"],
                    "input_shape": [1, 28, 28], "output_shape": [1, 28, 28], "upscale": 1, "transform": "strokes",
                    "directions": ["a2b"], "pen_width": 3, "patch_receptive_field": 16}
"""
from __future__ import annotations

from typing import Any

from ..data.transforms import PEN_WIDTH, TRANSFORMS
from ..errors import UserError
from ..models.translators import KIND, TRANSLATION_KINDS, patch_receptive_field
from ..registry import ARCHITECTURES

FAMILIES = tuple(TRANSLATION_KINDS)          # pix2pix, cyclegan, discogan, dualgan, srresnet, srgan
DEFAULT_DOMAINS = {"paired": ("input", "output"), "cycle": ("A", "B"), "sr": ("low resolution", "high resolution")}


def check_family(family: str) -> str:
    if family not in TRANSLATION_KINDS:
        raise UserError(f"unknown translation family {family!r} (known: {', '.join(FAMILIES)})")
    return family


def full_config(family: str, config: dict | None) -> dict:
    """The family's config with its defaults filled in (one UserError line for a bad one)."""
    return ARCHITECTURES.get(check_family(family)).config_class.from_dict(config or {}).to_dict()


def _default_domains(kind: str, transform: str | None) -> tuple[str, str]:
    a, b = DEFAULT_DOMAINS[kind]
    return (transform or a, b)


def translation_block(family: str, config: dict, domains: tuple[str, str] | list[str] | None = None,
                      transform: str | None = None, drawable: bool | None = None) -> dict[str, Any]:
    """The `translation` metadata block of a `family` model with (full) `config`; `transform` is the named
    transform (data/transforms.py) that derived domain A from B in training, if one did."""
    kind = TRANSLATION_KINDS[check_family(family)]
    c = config
    up = int(c.get("upscale", 1))
    out_res = c["resolution"] * up
    if drawable is None:
        drawable = bool(transform and TRANSFORMS[transform].drawable) if transform in TRANSFORMS else False
    block = {"family": family, "kind": kind, "drawable": bool(drawable),
             "domains": list(domains or _default_domains(kind, transform)),
             "input_shape": [c["in_channels"], c["resolution"], c["resolution"]],
             "output_shape": [c["out_channels"], out_res, out_res], "upscale": up, "transform": transform,
             "directions": ["a2b", "b2a"] if kind == "cycle" else ["a2b"]}
    if transform == "strokes":
        block["pen_width"] = PEN_WIDTH
    if family not in ("srresnet", "srgan"):
        block["patch_receptive_field"] = patch_receptive_field(c["critic_layers"])
    return block


def translation_meta(family: str, config: dict, *, domains=None, transform: str | None = None,
                     drawable: bool | None = None, **extra: Any) -> dict[str, Any]:
    """A whole bundle's metadata: kind, arch, config, image_shape (B's), value_range [-1, 1], the `translation`
    block, then `extra` (dataset, training, metrics, license, name)."""
    config = full_config(family, config)
    block = translation_block(family, config, domains, transform, drawable)
    meta = {"kind": KIND, "arch": family, "config": config, "image_shape": block["output_shape"],
            "value_range": [-1, 1], "translation": block, "metrics": {}}
    return meta | {k: v for k, v in extra.items() if v is not None}
