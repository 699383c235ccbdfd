"""NVlabs networks as GAN Studio architectures: "stylegan2-ada" (stylegan2-ada-pytorch, and the StyleGAN2 of
the stylegan3 repo) and "stylegan3" (its T and R configs).

Our modules are built from an unpickled record tree (`unpickle.PersistentRecord`). A converted file must
rebuild the same modules without the pickle, so the tree is also kept as JSON — the *skeleton*: every
record's class name, its plain attributes, and the shape and dtype of each parameter / buffer. The skeleton
plus the weights (our modules' state_dict, stored by safetensors) is the whole model: `tree_to_record` makes a
record with zero tensors of those shapes, the same constructors build the modules (they read only shapes and
plain attributes), and `load_state_dict` fills in the weights.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ...config import Config
from ...errors import ModelFileError, UserError
from ...registry import ARCHITECTURES
from ..base import Family
from .unpickle import PersistentRecord

FAMILIES = ("stylegan2-ada", "stylegan3")
NDARRAY, TENSOR = "__ndarray__", "__tensor__"
MAX_ATTR_TENSOR = 4096           # a tensor kept as a plain attribute (not a parameter / buffer): small only


# ---------------------------------------------------------------- record tree <-> JSON skeleton

def _plain(v: Any, where: str) -> Any:
    """A JSON value for a plain attribute; ModelFileError for anything that is not plain data."""
    if isinstance(v, np.generic):            # before float: np.float64 is a float subclass
        return v.item()
    if v is None or isinstance(v, bool | int | float | str):
        return type(v)(v) if v is not None else None
    if isinstance(v, np.ndarray):
        if v.dtype.hasobject:
            raise ModelFileError(f"{where}: an array of Python objects")
        return {NDARRAY: v.tolist(), "dtype": str(v.dtype)}
    if isinstance(v, torch.Tensor):
        if v.numel() > MAX_ATTR_TENSOR:
            raise ModelFileError(f"{where}: a {tuple(v.shape)} tensor outside the network's parameters")
        return {TENSOR: v.detach().cpu().tolist(), "dtype": str(v.dtype).removeprefix("torch.")}
    if isinstance(v, list | tuple | set | frozenset):
        return [_plain(x, where) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x, f"{where}.{k}") for k, x in v.items()}
    if isinstance(v, torch.dtype):
        return str(v).removeprefix("torch.")
    raise ModelFileError(f"{where}: a {type(v).__name__}, not plain data")


def _unplain(v: Any) -> Any:
    if isinstance(v, list):
        return [_unplain(x) for x in v]
    if isinstance(v, dict):
        if NDARRAY in v:
            return np.asarray(v[NDARRAY], dtype=v.get("dtype"))
        if TENSOR in v:
            return torch.tensor(v[TENSOR], dtype=getattr(torch, v.get("dtype", "float32")))
        return {k: _unplain(x) for k, x in v.items()}
    return v


def _spec(t: torch.Tensor | None) -> dict | None:
    return None if t is None else {"shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch.")}


def record_to_tree(rec: PersistentRecord, where: str = "G") -> dict:
    """The JSON skeleton of a record tree (no weights)."""
    attrs = {k: _plain(v, f"{where}.{k}") for k, v in rec.state.items()
             if not k.startswith("_") and k != "training"}
    return {"class": rec.class_name, "attrs": attrs,
            "params": {k: _spec(t) for k, t in rec.params.items()},
            "buffers": {k: _spec(t) for k, t in rec.buffers.items()},
            "modules": {k: None if c is None else record_to_tree(c, f"{where}.{k}") for k, c in rec.modules.items()}}


def _zeros(spec: dict | None) -> torch.Tensor | None:
    if spec is None:
        return None
    dtype = getattr(torch, str(spec.get("dtype", "float32")), None)
    if not isinstance(dtype, torch.dtype):
        raise ModelFileError(f"unknown tensor dtype {spec.get('dtype')!r} in the model's skeleton")
    return torch.zeros([int(s) for s in spec["shape"]], dtype=dtype)


def tree_to_record(tree: dict) -> PersistentRecord:
    """A record with zero tensors of the skeleton's shapes (the weights come after, via load_state_dict)."""
    try:
        state = {k: _unplain(v) for k, v in (tree.get("attrs") or {}).items()}
        state["_parameters"] = {k: _zeros(s) for k, s in (tree.get("params") or {}).items()}
        state["_buffers"] = {k: _zeros(s) for k, s in (tree.get("buffers") or {}).items()}
        state["_modules"] = {k: None if c is None else tree_to_record(c)
                             for k, c in (tree.get("modules") or {}).items()}
        return PersistentRecord(str(tree["class"]), state)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"the model's network skeleton is damaged ({type(exc).__name__}: {exc})") from None


# ---------------------------------------------------------------- records -> our modules

def family_of(g: PersistentRecord) -> str:
    """'stylegan3' when the synthesis network starts from Fourier features (an `input` layer), else
    'stylegan2-ada' (blocks b4, b8, ...)."""
    synth = g.child("synthesis")
    if not isinstance(synth, PersistentRecord):
        raise ModelFileError(f"a {g.class_name} without a synthesis network: not a StyleGAN generator")
    if synth.child("input") is not None:
        return "stylegan3"
    if synth.child("b4") is not None:
        return "stylegan2-ada"
    raise ModelFileError(f"a synthesis network with layers {', '.join(list(synth.modules)[:4])}: "
                         f"neither StyleGAN2 nor StyleGAN3")


def stylegan3_variant(g: PersistentRecord) -> str:
    """'R' when the layers use 1x1 convs (radially symmetric filters), else 'T'."""
    synth = g.child("synthesis")
    kernels = {int(c.get("conv_kernel", 3)) for c in synth.modules.values()
               if isinstance(c, PersistentRecord) and "conv_kernel" in c.state}
    return "R" if kernels == {1} else "T"


def generator_from_record(g: PersistentRecord) -> nn.Module:
    from .generator import NVLabsGenerator
    family = family_of(g)
    if family == "stylegan3":
        from .stylegan3 import SynthesisNetwork
    else:
        from .stylegan2_ada import SynthesisNetwork
    return NVLabsGenerator(g, SynthesisNetwork(g.child("synthesis")), family).eval()


def discriminator_from_record(d: PersistentRecord) -> nn.Module:
    from .discriminator import NVLabsDiscriminator
    return NVLabsDiscriminator(d).eval()


# ---------------------------------------------------------------- the registered architectures

@dataclass
class NVLabsConfig(Config):
    """The networks' skeletons (`record_to_tree`), by role; `source`: where they came from."""
    generator: dict | None = None
    critic: dict | None = None
    source: dict | None = None


def _network(tree: dict | None, role: str, make) -> nn.Module:
    if not isinstance(tree, dict):
        raise UserError(f"this imported model's metadata holds no {role} skeleton")
    return make(tree_to_record(tree))


def _make_generator(cfg: NVLabsConfig) -> nn.Module:
    return _network(cfg.generator, "generator", generator_from_record)


def _make_critic(cfg: NVLabsConfig) -> nn.Module:
    return _network(cfg.critic, "critic", discriminator_from_record)


for _name in FAMILIES:
    ARCHITECTURES.register(_name)(Family(NVLabsConfig, {"generator": _make_generator, "critic": _make_critic},
                                         kind="image-generator"))
