"""What a model file's metadata may hold, checked before anything trusts it, and whether a file's tensors fit the
networks its metadata declares, found on torch's "meta" device before anything is allocated.

`check_metadata` holds the one schema: per key its JSON type and range (`SCHEMA`, the keys every kind may hold;
`DIRECTIONS` those of a directions file), the keys a kind needs, and the `config` checked by the architecture's
config class. Keys it does not know pass (a newer GAN Studio may add some); a wrong value is one line:

    ModelFileError("m.safetensors: metadata z_dim must be an integer, not 1.5")

`check_tensors_fit` builds each declared network on the meta device (shapes, no storage) and compares its
state_dict names and shapes with the file's tensors, so a 1 MB file declaring `width` 100000 is one line, not
gigabytes of allocation; no network may hold more than `checks.MAX_PARAMETERS` numbers.
"""
from __future__ import annotations

import json
import typing
from collections.abc import Callable
from typing import Any

import torch

from .checks import FRACTION, MAX_PARAMETERS, NON_NEGATIVE, Range, check_value
from .errors import ModelFileError, UserError
from .models.base import build
from .models.voxel_prior import MAX_TRUNCATION
from .registry import ARCHITECTURES

KINDS = ("image-generator", "voxel-model", "classifier", "points", "directions", "translation-model")
MAX_DEPTH = 64                  # nesting of the metadata's JSON (a converted NVlabs skeleton is about 15 deep)
LATENT = Range(1, 1 << 20)      # z_dim, w_dim, a point's dimension
SIDE = Range(1, 1 << 16)        # one side of an image or voxel grid, or its channels
COUNT = Range(0, 1 << 20)       # classes, categories, codes
TRUNCATION = Range(0, MAX_TRUNCATION, lo_open=True)   # a voxel model's random-shape ψ

Rule = Callable[[str, Any], None]


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def one_line(text_: str) -> str:
    """`text_` with every line break or other unprintable character escaped (a key from a file may hold any)."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text_)


def _fail(where: str, what: str, value: Any) -> None:
    raise UserError(f"{where} must be {what}, not {_shown(value)}")


# ---------------------------------------------------------------- rules: (where, value) -> None or UserError

def integer(bounds: Range | None = None, optional: bool = True) -> Rule:
    def rule(where: str, v: Any) -> None:
        check_value(where, v, int, bounds, optional)
    return rule


def number(bounds: Range | None = None, optional: bool = True) -> Rule:
    def rule(where: str, v: Any) -> None:
        try:
            check_value(where, v, float, bounds, optional)
        except OverflowError:            # an integer beyond any float
            _fail(where, "a finite number", v)
    return rule


def flag(optional: bool = True) -> Rule:
    def rule(where: str, v: Any) -> None:
        check_value(where, v, bool, None, optional)
    return rule


def text(optional: bool = True, choices: tuple[str, ...] = ()) -> Rule:
    def rule(where: str, v: Any) -> None:
        if v is None and optional:
            return
        if not isinstance(v, str):
            _fail(where, "a string", v)
        if choices and v not in choices:
            _fail(where, "one of " + ", ".join(choices), v)
    return rule


def obj(fields: dict[str, Rule] | None = None, values: Rule | None = None, optional: bool = True) -> Rule:
    """A JSON object; the keys of `fields` (when present) by their rules, every value by `values`."""
    def rule(where: str, v: Any) -> None:
        if v is None and optional:
            return
        if not isinstance(v, dict):
            _fail(where, "a JSON object", v)
        for k, r in (fields or {}).items():
            if k in v:
                r(f"{where}.{k}", v[k])
        for k, x in v.items() if values else ():
            values(f"{where}.{k}", x)
    return rule


def seq(item: Rule | None = None, length: int | None = None, optional: bool = True) -> Rule:
    def rule(where: str, v: Any) -> None:
        if v is None and optional:
            return
        if not isinstance(v, list):
            _fail(where, "a list" if length is None else f"a list of {length}", v)
        if length is not None and len(v) != length:
            _fail(where, f"a list of {length}", v)
        for i, x in enumerate(v) if item else ():
            item(f"{where}[{i}]", x)
    return rule


def either(what: str, *rules: Rule) -> Rule:
    def rule(where: str, v: Any) -> None:
        for r in rules:
            try:
                return r(where, v)
            except UserError:
                continue
        _fail(where, what, v)
    return rule


def _value_range(where: str, v: Any) -> None:
    seq(number(optional=False), 2, optional=False)(where, v)
    if not v[0] < v[1]:
        _fail(where, "[low, high] with low < high", v)


SHAPE3 = seq(integer(SIDE, optional=False), 3)
NAMES = seq(text(optional=False))
INDICES = seq(integer(NON_NEGATIVE, optional=False))

SCHEMA: dict[str, Rule] = {
    "kind": text(optional=False, choices=KINDS), "arch": text(optional=False), "config": obj(),
    "networks": NAMES, "name": text(), "license": text(), "source_format": text(), "weights_dtype": text(),
    "z_dim": integer(LATENT), "w_dim": integer(LATENT), "num_ws": integer(Range(1, 4096)),
    "c_dim": integer(COUNT), "num_classes": integer(COUNT), "point_dim": integer(LATENT),
    "conditional": flag(), "info": obj({"cat": integer(COUNT), "cont": integer(COUNT)}),
    "ws_resolutions": seq(integer(SIDE, optional=False)), "image_shape": SHAPE3, "voxel_shape": SHAPE3,
    "value_range": _value_range, "threshold": number(FRACTION, optional=False), "classes": NAMES,
    "sample_threshold": number(FRACTION, optional=False), "truncation": number(TRUNCATION, optional=False),
    "prior": obj({"components": NAMES, "counts": INDICES, "views": integer(COUNT), "shrink": number(FRACTION),
                  "command": text()}),
    "axes": text(), "views": obj(),
    "dataset": either("a JSON object or a string", obj(), text()),
    "training": obj({"command": text(), "step": integer(NON_NEGATIVE, optional=False),
                     "seconds": number(NON_NEGATIVE, optional=False), "loss": text(), "reg": text(),
                     "history": seq(obj()), "options": obj()}),
    "metrics": obj({"iou_test": obj({"mean_iou": number()})}),
    "stored": obj({"precision": text(choices=("float16", "float32")), "networks": NAMES, "packed_from": obj()}),
    "imported": obj(), "parameters": obj(values=integer(NON_NEGATIVE, optional=False)),
    "translation": obj({"family": text(optional=False), "kind": text(optional=False, choices=("paired", "cycle", "sr")),
                        "drawable": flag(), "domains": seq(text(optional=False), 2), "input_shape": SHAPE3,
                        "output_shape": SHAPE3, "upscale": integer(Range(1, 8)), "transform": text(),
                        "directions": NAMES, "pen_width": number(Range(0, 1024))}),
    "text": obj({"vocab": NAMES, "captions": obj(), "thresholds": seq(seq(seq(number(optional=False), 2))),
                 "variants": integer(Range(1, 64)), "caption_seed": integer(NON_NEGATIVE), "example": text()}),
}

DIRECTIONS: dict[str, Rule] = {
    "method": text(), "space": text(choices=("z", "w")), "generator_hash": text(),
    "steps": integer(NON_NEGATIVE, optional=False), "rca": number(), "names": NAMES, "starred": INDICES,
    "hidden": INDICES, "shift_scale": number(optional=False), "layers": obj(), "presets": seq(obj()),
    "k": integer(NON_NEGATIVE), "latent_dim": integer(LATENT),
}


# ---------------------------------------------------------------- the metadata as a whole

def _depth_exceeds(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict | list):
            if d > limit:
                return True
            stack.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))
    return False


def check_metadata(meta: dict[str, Any], name: str) -> dict[str, Any]:
    """`meta` (a JSON object) when every key it holds has its type and range and its config fits its
    architecture; else one ModelFileError line `"<name>: metadata <key> must be …, not …"`."""
    try:
        if _depth_exceeds(meta, MAX_DEPTH):
            raise UserError(f"metadata is nested more than {MAX_DEPTH} levels deep")
        for key, rule in SCHEMA.items():
            if key in meta:
                rule(f"metadata {key}", meta[key])
        if meta.get("kind") == "directions":
            for key, rule in DIRECTIONS.items():
                if key in meta:
                    rule(f"metadata {key}", meta[key])
            return meta
        if "arch" not in meta:
            raise UserError("metadata has no arch (the architecture its networks are built with)")
        if meta.get("conditional"):
            integer(Range(2, COUNT.hi), optional=False)("metadata num_classes (a conditional model's)",
                                                       meta.get("num_classes"))
        if meta["arch"] in ARCHITECTURES:
            _check_family(meta)
    except UserError as exc:
        raise ModelFileError(one_line(f"{name}: {exc}")) from None
    return meta


def _check_family(meta: dict[str, Any]) -> None:
    """The kind, networks and config of `meta` against its (known) architecture's family."""
    arch = meta["arch"]
    family = ARCHITECTURES.get(arch)
    kind = meta.get("kind", "image-generator")
    if kind != family.kind:
        raise UserError(f"metadata kind must be {family.kind!r} for architecture {arch}, not {kind!r}")
    for role in meta.get("networks") or []:
        if role_of(role) not in family.roles:
            raise UserError(f"metadata networks names {role!r}, which a {arch} model does not have "
                            f"(it has: {', '.join(family.roles)})")
    config = meta.get("config") or {}
    try:
        _check_field_types(family.config_class, config)
        family.config_class.from_dict(config)
    except UserError as exc:
        raise UserError(f"metadata config is not a valid {arch} config ({exc})") from None
    except Exception as exc:        # a config class's own check tripping on a wrong type
        raise UserError(f"metadata config is not a valid {arch} config ({type(exc).__name__}: "
                        f"{_first_line(exc)})") from None


def _check_field_types(cls: type, config: dict) -> None:
    """The dict and list fields of config class `cls` (Config.from_dict checks int, float, str and bool)."""
    hints = typing.get_type_hints(cls)
    for key, value in config.items():
        hint = hints.get(key)
        kinds = [typing.get_origin(a) or a for a in typing.get_args(hint) or (hint,) if a is not type(None)]
        optional = type(None) in typing.get_args(hint)
        if len(kinds) == 1 and kinds[0] in (dict, list) and not (value is None and optional):
            if not isinstance(value, kinds[0]):
                _fail(f"{cls.__name__}: {key}", "a JSON object" if kinds[0] is dict else "a list", value)


def _first_line(exc: BaseException) -> str:
    s = str(exc).strip().splitlines()
    return s[0][:200] if s else type(exc).__name__


def parse_metadata(raw: str, name: str) -> dict[str, Any]:
    """The JSON object of a file's metadata string, checked (`check_metadata`); one ModelFileError otherwise."""
    try:
        meta = json.loads(raw)
    except RecursionError:
        raise ModelFileError(f"{name}: metadata is nested too deeply to read") from None
    except ValueError as exc:           # JSONDecodeError, or an integer of more than 4300 digits
        why = "an integer of more than 4300 digits" if "4300" in str(exc) else _first_line(exc)
        raise ModelFileError(f"{name}: metadata is not valid JSON ({why})") from None
    if not isinstance(meta, dict):
        raise ModelFileError(f"{name}: metadata is not a JSON object")
    return meta


# ---------------------------------------------------------------- the file's tensors against its networks

def role_of(role: str) -> str:
    """The family role a stored network is built as (generator_ema is a generator)."""
    return "generator" if role == "generator_ema" else role


def roles_of(meta: dict[str, Any], keys) -> list[str]:
    """The networks a file holds: its metadata's list, else the prefixes of its tensor names."""
    return list(meta.get("networks") or sorted({k.split(".", 1)[0] for k in keys}))


def _config_text(arch: str, config: Any) -> str:
    """The declared config for a message: its keys that differ from the family's defaults, shortened."""
    try:
        defaults = ARCHITECTURES.get(arch).config_class().to_dict()
        config = {k: v for k, v in config.items() if k not in defaults or defaults[k] != v}
    except Exception:                    # a family without defaults for every field: all of it
        pass
    text_ = json.dumps(config, default=str)
    return text_ if len(text_) <= 120 else text_[:117] + "..."


def expected_shapes(arch: str, role: str, config: dict, name: str) -> tuple[dict[str, tuple[int, ...]], int]:
    """({state_dict key: shape}, parameters + buffer elements) of network `role` of `arch` built from `config`
    on the meta device (nothing allocated); one ModelFileError when it cannot be built."""
    try:
        with torch.device("meta"):
            net = build(arch, role_of(role), config)
    except UserError as exc:
        raise ModelFileError(f"{name}: {exc}") from None
    except Exception as exc:            # e.g. a size beyond int64
        raise ModelFileError(f"{name}: the declared config {_config_text(arch, config)} does not give a buildable "
                             f"{arch} {role} ({type(exc).__name__}: {_first_line(exc)})") from None
    n = sum(t.numel() for t in net.parameters()) + sum(t.numel() for t in net.buffers())
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}, n


def check_tensors_fit(meta: dict[str, Any], shapes: dict[str, tuple[int, ...]], name: str,
                      cap: int = MAX_PARAMETERS) -> list[str]:
    """The roles of `meta` when the file's tensors (`shapes`: name -> shape, read without their data) are
    exactly the state_dicts of the networks its metadata declares, none of more than `cap` numbers; one
    ModelFileError line naming the first tensor that differs (and the declared config) otherwise."""
    try:
        return _check_fit(meta, shapes, name, cap)
    except ModelFileError as exc:
        raise ModelFileError(one_line(str(exc))) from None


def _check_fit(meta: dict[str, Any], shapes: dict[str, tuple[int, ...]], name: str, cap: int) -> list[str]:
    arch = meta.get("arch")
    if arch not in ARCHITECTURES:
        raise ModelFileError(f"{name}: unknown architecture {arch!r} (known: {', '.join(ARCHITECTURES.names())})")
    config = meta.get("config") or {}
    roles = roles_of(meta, shapes)
    for role in roles:
        want, n = expected_shapes(arch, role, config, name)
        prefix = role + "."
        have = {k[len(prefix):]: tuple(s) for k, s in shapes.items() if k.startswith(prefix)}
        problem = _first_difference(want, have, prefix)
        if problem:
            raise ModelFileError(f"{name}: the {role} weights do not fit architecture {arch!r} with the declared "
                                 f"config {_config_text(arch, config)}: {problem}")
        if n > cap:
            raise ModelFileError(f"{name}: its {arch} {role} holds {n:,} parameters ({4 * n / 2**30:.1f} GB as "
                                 f"float32), more than the cap of {cap:,}")
    return roles


def _first_difference(want: dict, have: dict, prefix: str) -> str | None:
    for k, shape in want.items():
        if k not in have:
            return f"the file has no tensor {prefix}{k}"
        if have[k] != shape:
            return f"{prefix}{k} is {list(have[k])} in the file, the config gives {list(shape)}"
    extra = [k for k in have if k not in want]
    return f"the file's tensor {prefix}{extra[0]} is not part of this network" if extra else None
