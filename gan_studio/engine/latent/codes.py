"""Chosen classes and InfoGAN codes, as the CLI and the GUI give them: {"class": 3, "cat": 2, "c0": 0.5}.

A code not named stays per seed (read off z, models/codes.py). Chosen codes are written into ws after the mapping
(and after truncation, which leaves codes alone), so they work the same for z and ws latents.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

from ..errors import UserError
from ..models.codes import CLASS, CodeLayout, layout_of


def model_layout(G, what: str = "codes") -> CodeLayout:
    """G's code layout, or a clear error naming what was asked for."""
    layout = layout_of(G)
    if layout is None:
        raise UserError(f"{what}: this model is neither conditional nor an InfoGAN (it has no class or codes)")
    return layout


def parse_codes(items: Sequence[str], klass: int | None = None) -> dict[str, float]:
    """['cat=3', 'c0=0.5'] (and --class K) -> {'class': K, 'cat': 3.0, 'c0': 0.5}; bad items are one-line errors."""
    codes: dict[str, float] = {}
    if klass is not None:
        codes[CLASS] = klass
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        try:
            if not sep or not name:
                raise ValueError
            codes[name] = float(value)
        except ValueError:
            raise UserError(f"bad --code {item!r}: use NAME=VALUE, e.g. cat=3 or c0=0.5") from None
    return codes


def check_codes(G, codes: dict[str, float]) -> dict[str, float]:
    """Codes validated against G (names, ranges); {} stays {} for any model."""
    if not codes:
        return {}
    what = "--class" if set(codes) == {CLASS} else "class / codes"
    return model_layout(G, what).check(codes)


def apply_codes(G, ws: torch.Tensor, codes: dict[str, float]) -> torch.Tensor:
    """ws (N, num_ws, w_dim) with the chosen codes written into every row."""
    if not codes:
        return ws
    return model_layout(G).set_codes(ws, codes)


def apply_row_codes(G, ws: torch.Tensor, codes: Sequence[dict]) -> torch.Tensor:
    """ws (N, num_ws, w_dim) with row i's chosen codes codes[i] written in."""
    if not any(codes):
        return ws
    return torch.cat([apply_codes(G, ws[i:i + 1], c) for i, c in enumerate(codes)], 0)


def describe_codes(codes: dict[str, float]) -> str:
    """'class 3 · cat 2 · c0 +0.50' ('' when none are chosen)."""
    parts = []
    for name, v in codes.items():
        parts.append(f"{name} {int(v)}" if name in (CLASS, "cat") else f"{name} {v:+.2f}")
    return " · ".join(parts)


def code_flags(codes: dict[str, float]) -> str:
    """The `gan-studio sample` flags for these codes: ' --class 3 --code c0=0.5'."""
    out = ""
    for name, v in codes.items():
        out += f" --class {int(v)}" if name == CLASS else \
            f" --code {name}={int(v)}" if name == "cat" else f" --code {name}={v:g}"
    return out
