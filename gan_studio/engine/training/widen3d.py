"""Give a voxel model's encoder more channels without changing what it computes, so that the encoder-only stage
(`train3d --resume --options '{"stage": "encoder", ...}'`) can go on with more capacity:

    python -c "from gan_studio.engine.training.widen3d import widen_checkpoint; \\
               widen_checkpoint('ckpt.safetensors', 'wide.safetensors', 64)"
    gan-studio train3d --out wide.safetensors --resume --arch-config '{..., "e_width": 64}' \
        --options '{"stage": "encoder", ...}'

The encoder (and its live copy) become `widen_encoder`'s function-preserving widening; generator, reconstruction
generator and critic are kept bit for bit; the metadata's config says the new width, and the widening is the
last "command" of the file's training, so the resumed run's history lists it between the runs before and after
(`gan-studio info`). The resumed run then passes the loop's architecture check like any resume.
"""
from __future__ import annotations

from pathlib import Path

from ..bundle import load_bundle, save_bundle
from ..errors import UserError
from ..models.voxel_iwgan import widen_encoder


def widen_checkpoint(src: str | Path, dst: str | Path, e_width: int) -> Path:
    """Write `src` (a voxel-model file) to `dst` with its encoder(s) widened to `e_width` channels."""
    b = load_bundle(src)
    if b.kind != "voxel-model" or "encoder" not in b.networks:
        raise UserError(f"{Path(src).name} is not a voxel model with an encoder")
    old = int(b.meta["config"].get("e_width", 32))
    if e_width <= old:
        raise UserError(f"e_width {e_width} is not wider than the encoder's {old}")
    nets = {role: (widen_encoder(net.float(), e_width) if role in ("encoder", "encoder_live") else net.float())
            for role, net in b.networks.items()}
    meta = dict(b.meta)
    meta["config"] = dict(meta["config"], e_width=e_width)
    t = dict(meta.get("training") or {})
    t["history"] = list(t.get("history", [])) + [{"command": t.get("command"), "until_step": t.get("step"),
                                                  "seconds": t.get("seconds")}]
    t["command"] = f"widen_checkpoint({Path(src).name!r}, {Path(dst).name!r}, e_width={e_width}) (from {old})"
    meta["training"] = t
    meta.pop("stored", None)
    return save_bundle(dst, nets, meta)
