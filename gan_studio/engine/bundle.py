"""Model files.

Our format is one `.safetensors` file: each network's weights under its role (`generator.fc.0.weight`,
`critic.…`, `generator_ema.…`, `encoder.…`) and JSON metadata under the single key `gan_studio`:

    {"schema_version": 1, "kind": "image-generator", "arch": "dcgan", "config": {...},
     "networks": ["generator", "critic"], "z_dim": 64, "image_shape": [1, 28, 28], "value_range": [-1, 1],
     "dataset": {...}, "training": {"command": "...", "seed": 0, "step": 1000, ...}, "metrics": {...},
     "license": "..."}

Also loaded: a plain PyTorch state_dict (`torch.load(weights_only=True)`, config inferred from shapes)
and — only when the user trusts the file — a TorchScript generator. Nothing else is ever unpickled, and
every failure is one `ModelFileError`. Nothing in a file is trusted before it is checked: the metadata against
its schema and its architecture's config class (model_meta.py), the tensors' names and shapes against the
declared networks built on torch's meta device (read from the header, no data loaded; no network of more than
checks.MAX_PARAMETERS numbers), a state_dict's tensors for stride-0 giants (torchload.check_plain_tensors) —
all before any network is allocated.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checks import MAX_PARAMETERS
from .errors import ModelFileError, UserError, not_a_file
from .files import atomic_write
from .model_meta import check_metadata, check_tensors_fit, parse_metadata, role_of, roles_of
from .models.base import build
from .models.nvlabs.importer import looks_like_network_pickle, read_network_pickle
from .models.scripted import load_scripted_generator
from .registry import ARCHITECTURES
from .torchload import check_plain_tensors, load_weights

META_KEY = "gan_studio"
SCHEMA_VERSION = 1
GENERATOR_ROLES = ("generator_ema", "generator")   # preferred first


@dataclass
class Bundle:
    meta: dict[str, Any]
    networks: dict[str, nn.Module] = field(default_factory=dict)
    path: Path | None = None

    @property
    def kind(self) -> str:
        return self.meta.get("kind", "image-generator")

    @property
    def name(self) -> str:
        return self.meta.get("name") or (self.path.stem if self.path else "model")

    def generator(self, prefer_ema: bool = True):
        roles = GENERATOR_ROLES if prefer_ema else GENERATOR_ROLES[::-1]
        for r in roles:
            if r in self.networks:
                return self.networks[r]
        raise ModelFileError(f"{self.name}: this {self.kind} file holds no generator "
                             f"(networks: {', '.join(self.networks) or 'none'})")

    def to(self, device) -> Bundle:
        for net in self.networks.values():
            net.to(device)
        return self


# ---------------------------------------------------------------- saving

def weights_hash(module: nn.Module) -> str:
    """sha256 of a network's weight tensors' bytes, in name order: the generator's identity."""
    h = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def save_bundle(path: str | Path, networks: dict[str, nn.Module], meta: dict[str, Any],
                half: bool = False) -> Path:
    """Write networks + metadata atomically. `meta` needs at least kind, arch and config."""
    from safetensors.torch import save_file
    meta = dict(meta)
    meta.setdefault("schema_version", SCHEMA_VERSION)
    meta["networks"] = sorted(networks)
    for key in ("kind", "arch", "config"):
        if key not in meta:
            raise ValueError(f"bundle metadata needs {key!r}")
    tensors = {}
    for role, net in networks.items():
        for k, v in net.state_dict().items():
            v = v.detach().cpu()
            if half and v.is_floating_point():
                v = v.half()
            tensors[f"{role}.{k}"] = v.contiguous().clone()
    return atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata={META_KEY: json.dumps(meta)}))


def resave_bundle(bundle: Bundle, meta: dict[str, Any]) -> Path:
    """Rewrite a loaded bundle's own file with new metadata, keeping its networks and their stored precision
    (a float16 file stays float16)."""
    if bundle.path is None or bundle.path.suffix != ".safetensors" or bundle.meta.get("source_format"):
        raise UserError("only GAN Studio .safetensors files can be rewritten (--write)")
    half = (meta.get("stored") or {}).get("precision") == "float16" or meta.get("weights_dtype") == "float16"
    return save_bundle(bundle.path, {k: v.cpu() for k, v in bundle.networks.items()}, meta, half=half)


REQUIRED_ROLES = {"image-generator": [GENERATOR_ROLES], "voxel-model": [("generator",), ("encoder",)],
                  "translation-model": [("generator",)]}


def pack_bundle(bundle: Bundle, path: str | Path, half: bool = True, roles: list[str] | None = None) -> Path:
    """Write `bundle` (any loaded model, our format or a state_dict) as one of our files, optionally in half
    precision and with only some networks (e.g. generator_ema + critic for a shipped model). The metadata
    keeps everything and records what was stored and where it came from."""
    roles = list(dict.fromkeys(roles or bundle.networks))
    unknown = [r for r in roles if r not in bundle.networks]
    if unknown:
        raise UserError(f"{bundle.name} has no {', '.join(unknown)} network (has: {', '.join(bundle.networks)})")
    for options in REQUIRED_ROLES.get(bundle.kind, []):
        if not any(r in roles for r in options):
            raise UserError(f"this model ({bundle.kind}) needs its {' or '.join(options)} network; keep it")
    if bundle.meta.get("arch") not in ARCHITECTURES:
        raise UserError(f"{bundle.name}: a {bundle.meta.get('arch')} model cannot be packed (its networks are "
                        f"not one of GAN Studio's architectures)")
    meta = dict(bundle.meta)
    meta["stored"] = {"precision": "float16" if half else "float32", "networks": roles,
                      "packed_from": {"file": bundle.path.name if bundle.path else None,
                                      "networks": sorted(bundle.networks)}}
    return save_bundle(path, {r: bundle.networks[r] for r in roles}, meta, half=half)



def save_imported(bundle: Bundle, path: str | Path, half: bool = False) -> Path:
    """Write a model read from another format (an NVlabs network pickle) as one of our files, once: the same
    networks and metadata, plus when and in what precision it was converted. The next open needs no pickle."""
    if not bundle.meta.get("source_format"):
        raise UserError(f"{bundle.name} is already a GAN Studio file; use `gan-studio pack` to copy it")
    meta = dict(bundle.meta)
    fmt = meta.pop("source_format")
    meta["imported"] = {"format": fmt, "file": bundle.path.name if bundle.path else None,
                        "precision": "float16" if half else "float32",
                        "date": datetime.date.today().isoformat()}
    meta["stored"] = {"precision": "float16" if half else "float32", "networks": sorted(bundle.networks)}
    return save_bundle(path, {r: n.cpu() for r, n in bundle.networks.items()}, meta, half=half)

# ---------------------------------------------------------------- loading

def read_metadata(path: str | Path) -> dict[str, Any]:
    """Just the JSON metadata of one of our files (fast: reads the header only), checked against the schema of
    model_meta.py before anything uses it: every failure is one ModelFileError line."""
    from safetensors import safe_open
    path = Path(path)
    if path.is_dir():
        raise ModelFileError(not_a_file(path))
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(META_KEY)
    except FileNotFoundError:
        raise ModelFileError(not_a_file(path)) from None
    except Exception as exc:
        raise ModelFileError(f"{path.name}: not a readable safetensors file ({_first_line(exc)})") from None
    if raw is None:
        raise ModelFileError(f"{path.name}: a safetensors file without GAN Studio metadata "
                             f"(key {META_KEY!r}); load its weights as a state_dict with --arch")
    meta = parse_metadata(raw, path.name)
    ver = meta.get("schema_version")
    if not isinstance(ver, int) or isinstance(ver, bool) or ver > SCHEMA_VERSION:
        raise ModelFileError(f"{path.name}: metadata schema version {ver!r:.40} is not supported "
                             f"(this GAN Studio reads up to {SCHEMA_VERSION}); update GAN Studio")
    try:
        return check_metadata(meta, path.name)
    except ModelFileError:
        raise
    except Exception as exc:             # pragma: no cover - a schema rule with a bug: still one line
        raise ModelFileError(f"{path.name}: metadata could not be checked ({type(exc).__name__}: "
                             f"{_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    s = str(exc).strip().splitlines()
    return s[0][:200] if s else type(exc).__name__


def _build_networks(meta: dict, state: dict[str, torch.Tensor], name: str) -> dict[str, nn.Module]:
    """The networks of `meta` holding `state`'s weights. Callers have checked with `check_tensors_fit` that the
    tensors are the declared networks' (on the meta device), so this allocates no more than the file holds."""
    arch = meta.get("arch")
    nets = {}
    for role in roles_of(meta, state):
        prefix = role + "."
        sd = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        try:
            net = build(arch, role_of(role), meta.get("config") or {})
        except UserError as exc:
            raise ModelFileError(f"{name}: {exc}") from None
        except Exception as exc:          # a constructor tripping on a config its class let through
            raise ModelFileError(f"{name}: the {role} network of architecture {arch!r} cannot be built from "
                                 f"this config ({type(exc).__name__}: {_first_line(exc)})") from None
        ref = net.state_dict()
        for k, v in sd.items():          # stored half precision -> the network's dtype
            if k in ref and v.dtype != ref[k].dtype and v.is_floating_point():
                sd[k] = v.to(ref[k].dtype)
        try:
            net.load_state_dict(sd, strict=True)
        except RuntimeError as exc:
            raise ModelFileError(f"{name}: the {role} weights do not fit architecture {arch!r} with this "
                                 f"config ({_summarise_load_error(exc)})") from None
        nets[role] = net.eval()
    return nets


def _summarise_load_error(exc: RuntimeError) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return "; ".join(lines[1:3]) if len(lines) > 1 else lines[0] if lines else "mismatch"


def _load_safetensors(path: Path) -> Bundle:
    from safetensors import safe_open
    from safetensors.torch import load_file
    meta = read_metadata(path)
    if meta.get("kind") == "directions":
        raise ModelFileError(f"{path.name}: this is a directions file, not a model; load it in the directions panel")
    try:
        with safe_open(str(path), framework="pt") as f:      # the header's shapes; no tensor data read
            shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except Exception as exc:
        raise ModelFileError(f"{path.name}: weights could not be read ({_first_line(exc)})") from None
    check_tensors_fit(meta, shapes, path.name)
    try:
        state = load_file(str(path))
    except Exception as exc:
        raise ModelFileError(f"{path.name}: weights could not be read ({_first_line(exc)})") from None
    return Bundle(meta, _build_networks(meta, state, path.name), path)


def is_torchscript(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    return any("/code/" in n or n.startswith("code/") for n in names) and any(n.endswith("constants.pkl")
                                                                              for n in names)


def _load_state_dict_file(path: Path, arch: str | None) -> Bundle:
    obj = load_weights(str(path), path.name)     # weights only; a refusal says why, in our words
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not obj or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                       for k, v in obj.items()):
        got = "a dict whose keys are not all names or values not all tensors" if isinstance(obj, dict) and obj \
            else type(obj).__name__
        raise ModelFileError(f"{path.name}: expected a state_dict (names -> tensors), got {got}")
    check_plain_tensors(obj, path.name, MAX_PARAMETERS)   # no stride-0 giants before anything reads a shape
    if all(not k.startswith(("generator.", "critic.", "generator_ema.")) for k in obj):
        obj = {f"generator.{k}": v for k, v in obj.items()}   # a bare generator state_dict
    arch = arch or "dcgan"
    family = ARCHITECTURES.get(arch)
    infer = getattr(family.config_class, "infer_from_state_dict", None)
    if infer is None:
        raise ModelFileError(f"{path.name}: architecture {arch!r} cannot infer its config from a state_dict")
    try:
        config = infer({k.split(".", 1)[1]: v for k, v in obj.items() if k.startswith("generator.")})
    except (KeyError, ValueError, IndexError, TypeError, AttributeError, UserError) as exc:
        raise ModelFileError(f"{path.name}: not a {arch} generator state_dict ({_first_line(exc)})") from None
    roles = sorted({k.split(".", 1)[0] for k in obj})
    meta = {"schema_version": SCHEMA_VERSION, "kind": family.kind, "arch": arch, "config": config,
            "networks": roles, "name": path.stem, "source_format": "state_dict",
            "z_dim": config.get("z_dim"), "value_range": [-1, 1]}
    check_tensors_fit(meta, {k: tuple(v.shape) for k, v in obj.items()}, path.name)
    b = Bundle(meta, _build_networks(meta, obj, path.name), path)
    g = b.generator()
    meta["image_shape"] = list(g.image_shape)
    return b


def _load_torchscript(path: Path, z_dim: int | None) -> Bundle:
    gen = load_scripted_generator(path, z_dim)
    meta = {"schema_version": SCHEMA_VERSION, "kind": "image-generator", "arch": "torchscript", "config": {},
            "networks": ["generator"], "name": path.stem, "source_format": "torchscript",
            "z_dim": gen.z_dim, "image_shape": list(gen.image_shape), "value_range": [-1, 1]}
    return Bundle(meta, {"generator": gen}, path)


def load_bundle(path: str | Path, trust_code: bool = False, arch: str | None = None,
                z_dim: int | None = None) -> Bundle:
    """Load any supported model file onto the CPU. Raises ModelFileError with one clear message otherwise."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ModelFileError(not_a_file(path))
    with open(path, "rb") as fh:
        head = fh.read(16)
    if not head:
        raise ModelFileError(f"{path.name}: the file is empty")
    if _looks_like_safetensors(path, head):
        return _load_safetensors(path)
    if head[:2] == b"PK":
        if is_torchscript(path):
            if not trust_code:
                raise ModelFileError(f"{path.name}: a TorchScript file is a program, not just weights; "
                                     f"load it only if you trust its source (--trust-code)")
            return _load_torchscript(path, z_dim)
        return _load_state_dict_file(path, arch)
    if head[:1] == b"\x80":
        if looks_like_network_pickle(path):    # NVlabs' StyleGAN2-ADA / StyleGAN3: our allow-list unpickler
            nets, meta = read_network_pickle(path)
            return Bundle(meta, nets, path)
        return _load_state_dict_file(path, arch)   # a legacy raw pickle: torch.load(weights_only=True) refuses code
    raise ModelFileError(f"{path.name}: not a model file GAN Studio can read (expected .safetensors, a PyTorch "
                         f"state_dict, an NVlabs network pickle, or TorchScript)")


def _looks_like_safetensors(path: Path, head: bytes) -> bool:
    if path.suffix == ".safetensors":
        return True
    if len(head) < 9:
        return False
    n = int.from_bytes(head[:8], "little")
    return 0 < n < 100_000_000 and head[8:9] == b"{"
