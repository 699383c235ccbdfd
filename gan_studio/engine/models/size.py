"""How big a network a config asks for, found before anything is allocated: the networks are built on torch's
"meta" device (shapes without storage), so `--arch-config '{"width": 100000}'` is one clear line, not minutes of
allocation ending in a traceback."""
from __future__ import annotations

import json
from typing import Any

import torch

from ..checks import MAX_PARAMETERS
from ..errors import UserError
from ..registry import ARCHITECTURES


def parameter_counts(arch: str, config: dict[str, Any]) -> dict[str, int]:
    """{role: parameters + buffer elements} of every network of `arch` built from `config` (its family's
    defaults for the rest), on the meta device. A config the family refuses raises its UserError; a network
    that cannot be built on the meta device is left out (the real build then speaks for itself)."""
    family = ARCHITECTURES.get(arch)
    cfg = family.config_class.from_dict(config)
    counts = {}
    for role, make in family.roles.items():
        try:
            with torch.device("meta"):
                net = make(cfg)
        except UserError:
            raise
        except Exception:                   # e.g. a constructor that reads a tensor's values
            continue
        counts[role] = sum(t.numel() for t in net.parameters()) + sum(t.numel() for t in net.buffers())
    return counts


def check_network_size(arch: str, config: dict[str, Any], flag: str = "--arch-config",
                       cap: int = MAX_PARAMETERS) -> None:
    """UserError when a network of `arch` with `config` would hold more than `cap` numbers. Quietly passes a
    config that is invalid on its own (the recipe adds the data's defaults and reports what is wrong)."""
    if not config or arch not in ARCHITECTURES:     # the family's defaults are small by construction
        return
    try:
        counts = parameter_counts(arch, config)
    except UserError:
        return
    for role, n in counts.items():
        if n > cap:
            raise UserError(f"{flag} {json.dumps(config)} gives a {arch} {role} of {n:,} parameters "
                            f"({4 * n / 2**30:.1f} GB as float32); the cap is {cap:,}: choose a smaller width or z_dim")
