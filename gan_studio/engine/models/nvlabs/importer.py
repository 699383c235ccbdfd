"""An NVlabs network pickle -> our networks by role + GAN Studio metadata (what `bundle.load_bundle` and
`gan-studio import` need). Nothing from the file runs: `unpickle.load_network_pickle` builds records only.

Roles: `generator_ema` from `G_ema` (the network the original samples with), `generator` from `G` only when the
file has no `G_ema`, `critic` from `D` when there is one. The metadata records the file's sha256, which network
each role came from, the original class names and constructor arguments (`_init_kwargs`), the skeletons our
modules are rebuilt from, and what the generator is (z_dim, c_dim, w_dim, num_ws, resolution, channels).
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from torch import nn

from ...errors import ModelFileError
from .family import _plain, discriminator_from_record, family_of, generator_from_record, record_to_tree
from .family import stylegan3_variant as _variant
from .unpickle import PersistentRecord, load_network_pickle

SOURCE_FORMAT = "nvlabs-pickle"
ORIGINAL_REPOS = {"stylegan2-ada": "NVlabs/stylegan2-ada-pytorch (training/networks.py)",
                  "stylegan3": "NVlabs/stylegan3 (training/networks_stylegan3.py)"}


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def looks_like_network_pickle(path: Path) -> bool:
    """A raw pickle that names torch_utils.persistence near its start (NVlabs' persistent networks). A pickle of
    the TensorFlow StyleGAN / StyleGAN2 (dnnlib.tflib networks) is refused here with what to do instead."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
    except OSError:
        return False
    if head[:1] == b"\x80" and b"dnnlib.tflib" in head:
        raise ModelFileError(f"{path.name}: a TensorFlow StyleGAN pickle (dnnlib.tflib); GAN Studio reads the PyTorch "
                             f"pickles of stylegan2-ada-pytorch / stylegan3 (their legacy.py converts TF files)")
    return head[:1] == b"\x80" and b"torch_utils.persistence" in head


def _records(data: dict, name: str) -> dict[str, tuple[str, PersistentRecord]]:
    """role -> (the file's key, record)."""
    g_key = "G_ema" if isinstance(data.get("G_ema"), PersistentRecord) else "G"
    if not isinstance(data.get(g_key), PersistentRecord):
        found = ", ".join(k for k, v in data.items() if isinstance(v, PersistentRecord)) or "none"
        raise ModelFileError(f"{name}: a pickle without a generator (G_ema or G; networks found: {found})")
    out = {"generator_ema" if g_key == "G_ema" else "generator": (g_key, data[g_key])}
    if isinstance(data.get("D"), PersistentRecord):
        out["critic"] = ("D", data["D"])
    return out


def _init_kwargs(rec: PersistentRecord, where: str) -> dict:
    kw = rec.get("_init_kwargs")
    try:
        return _plain(dict(kw), where) if isinstance(kw, dict) else {}
    except ModelFileError:
        return {}


def _param_count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters()) + sum(b.numel() for b in net.buffers())


def read_network_pickle(path: str | Path) -> tuple[dict[str, nn.Module], dict[str, Any]]:
    """(networks by role, metadata) for an NVlabs network pickle; one ModelFileError line when it is not one."""
    path = Path(path)
    data = load_network_pickle(path, path.name)
    records = _records(data, path.name)
    g_role = next(r for r in records if r != "critic")
    g_rec = records[g_role][1]
    family = family_of(g_rec)
    nets: dict[str, nn.Module] = {}
    for role, (key, rec) in records.items():
        try:
            nets[role] = generator_from_record(rec) if role != "critic" else discriminator_from_record(rec)
        except ModelFileError as exc:
            raise ModelFileError(f"{path.name}: {key}: {exc}") from None
    G = nets[g_role]
    source = {"file": path.name, "sha256": file_sha256(path), "bytes": path.stat().st_size,
              "format": SOURCE_FORMAT, "original_code": ORIGINAL_REPOS[family],
              "roles": {role: key for role, (key, _) in records.items()},
              "classes": {key: rec.class_name for key, rec in records.values()},
              "init_kwargs": {key: _init_kwargs(rec, key) for key, rec in records.values()},
              "left_out": sorted(k for k, v in data.items() if k not in {key for key, _ in records.values()}
                                 and v is not None),
              "training_set_kwargs": _safe_plain(data.get("training_set_kwargs"))}
    if family == "stylegan3":
        source["config"] = _variant(g_rec)
    config = {"generator": record_to_tree(g_rec, records[g_role][0]),
              "critic": record_to_tree(records["critic"][1], "D") if "critic" in records else None,
              "source": source}
    meta = {"schema_version": 1, "kind": "image-generator", "arch": family, "config": config,
            "networks": sorted(nets), "name": path.stem, "source_format": SOURCE_FORMAT,
            "z_dim": G.z_dim, "c_dim": G.c_dim, "w_dim": G.w_dim, "num_ws": G.num_ws,
            "ws_resolutions": list(G.ws_resolutions), "image_shape": list(G.image_shape), "value_range": [-1, 1],
            "parameters": {role: _param_count(n) for role, n in nets.items()},
            "training": {"loss": "ns", "note": "trained by NVlabs' code (non-saturating logistic loss)"}}
    return nets, meta


def _safe_plain(v: Any) -> Any:
    try:
        return _plain(v, "training_set_kwargs")
    except ModelFileError:
        return None


def summary(meta: dict) -> str:
    """What an imported file holds, in a few lines (the app's confirmation, `gan-studio import`)."""
    src = (meta.get("config") or {}).get("source") or {}
    c, r, _ = meta.get("image_shape") or (0, 0, 0)
    arch = meta.get("arch", "?") + (f"-{src['config']}" if src.get("config") else "")
    nets = ", ".join(f"{src.get('roles', {}).get(role, role)} → {role} ({n / 1e6:.2f} M)"
                     for role, n in (meta.get("parameters") or {}).items())
    cond = f"conditional, c_dim {meta['c_dim']}" if meta.get("c_dim") else "unconditional"
    no_d = "" if "critic" in (meta.get("parameters") or {}) else "\nno discriminator in the file: no DRS"
    return (f"{arch}: {r}×{r}, {c} channel{'s' if c != 1 else ''}, z_dim {meta.get('z_dim')}, "
            f"w_dim {meta.get('w_dim')}, {meta.get('num_ws')} ws, {cond}\nnetworks: {nets}{no_d}")
