"""Finding models: shipped ones in resources/, the user's folder, and explicit paths."""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from .bundle import Bundle, load_bundle, read_metadata
from .errors import ModelFileError, UserError
from .paths import RESOURCES, resources_dir, user_models_dir  # noqa: F401  (RESOURCES: the default shipped folder)

MODEL_SUFFIXES = (".safetensors", ".pt", ".pth", ".pkl")


DEFAULT_MODEL = "mnist-wgan-gp"      # what the GUI opens first (no model asked for, none open last time)


def shipped_dir() -> Path:
    """The shipped models' folder ($GAN_STUDIO_RESOURCES, else resources/)."""
    return resources_dir()


def user_dir() -> Path:
    """The user's model folder ($GAN_STUDIO_HOME/models, else the platform's user data folder: paths.py)."""
    return user_models_dir()


def cli_ref(path: Path | None) -> str:
    """How a command line names a model file: its catalogue name where `--model NAME` finds it, else its path
    ("MODEL" for a model that has no file)."""
    if path is None:
        return "MODEL"
    if path.parent.resolve() in (shipped_dir().resolve(), user_dir().resolve()):
        return shlex.quote(path.stem)
    return shlex.quote(str(path))


@dataclass
class ModelEntry:
    name: str
    path: Path
    arch: str
    kind: str
    z_dim: int | None
    image_shape: list[int] | None
    shipped: bool
    meta: dict

    def as_json(self) -> dict:
        return {"name": self.name, "path": str(self.path), "arch": self.arch, "kind": self.kind,
                "z_dim": self.z_dim, "image_shape": self.image_shape}


def _entry(path: Path, shipped: bool) -> ModelEntry | None:
    """The entry of a readable model file; None for directions and classifier files (not models to explore).
    A file whose metadata fails its checks raises its one ModelFileError line."""
    meta = read_metadata(path)
    if meta.get("kind") in NOT_MODELS:                     # not models to explore (feature networks, directions)
        return None
    return ModelEntry(meta.get("name") or path.stem, path, meta.get("arch", "?"), meta.get("kind", "?"),
                      meta.get("z_dim"), meta.get("image_shape"), shipped, meta)


@dataclass
class Unreadable:
    """A file in a model folder that is not listed, and why (its one ModelFileError line)."""
    path: Path
    reason: str


def scan_models(extra_dirs: list[Path] | None = None) -> tuple[list[ModelEntry], list[Unreadable]]:
    """Every readable GAN Studio model file (shipped first), by name, and every `.safetensors` file in those
    folders that could not be read, with its reason (a damaged or hostile file never breaks the listing)."""
    out, bad, seen = [], [], set()
    for folder, shipped in [(shipped_dir(), True), (user_dir(), False)] + [(d, False) for d in extra_dirs or []]:
        if not folder.is_dir():
            continue
        for p in sorted(folder.glob("*.safetensors")):
            if p.resolve() in seen:
                continue
            seen.add(p.resolve())
            try:
                e = _entry(p, shipped)
            except (ModelFileError, OSError) as exc:
                bad.append(Unreadable(p, str(exc)))
                continue
            if e:
                out.append(e)
    return out, bad


def list_models(extra_dirs: list[Path] | None = None) -> list[ModelEntry]:
    """Every readable GAN Studio model file (shipped first), by name; unreadable files are skipped (see
    `unreadable_models` for why)."""
    return scan_models(extra_dirs)[0]


def unreadable_models(extra_dirs: list[Path] | None = None) -> list[Unreadable]:
    """The `.safetensors` files of the model folders that `list_models` skips, each with its reason."""
    return scan_models(extra_dirs)[1]


def default_model() -> ModelEntry | None:
    """The shipped model the app opens when none is asked for and none was open last: an image generator
    first, DEFAULT_MODEL before the other shipped models."""
    shipped = [e for e in list_models() if e.shipped]
    shipped.sort(key=lambda e: (e.kind != "image-generator", e.name != DEFAULT_MODEL))
    return shipped[0] if shipped else None


def resolve_model(name_or_path: str) -> Path:
    """A path that exists, else a model name (or file stem) from the catalogue."""
    p = Path(name_or_path).expanduser()
    if p.is_file():
        return p
    entries = list_models()
    for e in entries:
        if name_or_path in (e.name, e.path.stem, e.path.name):
            return e.path
    hidden = _unlisted_file(name_or_path)
    if hidden is not None:
        return hidden                   # a feature network or directions file: the command says what it needs
    if p.is_dir():
        raise UserError(f"{p} is a folder, not a model file")
    names = ", ".join(e.name for e in entries) or "none found"
    raise UserError(f"no model file or model named {name_or_path!r} (models: {names})")


NOT_MODELS = ("directions", "classifier")     # GAN Studio files that are not models to explore: never listed


def _unlisted_file(name: str) -> Path | None:
    """A file of the model folders that the catalogue leaves out on purpose (a feature network such as
    lenet-mnist, a directions file) named `name` or `name`.safetensors, else None. So that `info --model
    lenet-mnist` works, and `sample --model lenet-mnist` says "a classifier, not an image generator" instead
    of "no model named"."""
    for folder in (shipped_dir(), user_dir()):
        for p in (folder / name, folder / f"{name}.safetensors"):
            try:
                if p.is_file() and read_metadata(p).get("kind") in NOT_MODELS:
                    return p
            except (ModelFileError, OSError):
                continue
    return None


def open_model(name_or_path: str, trust_code: bool = False, **kw) -> Bundle:
    return load_bundle(resolve_model(name_or_path), trust_code=trust_code, **kw)


def source_sha256(meta: dict) -> str | None:
    """The sha256 of the file an imported model was converted from (None for our own models)."""
    config = meta.get("config") if isinstance(meta, dict) else None
    source = config.get("source") if isinstance(config, dict) else None
    sha = source.get("sha256") if isinstance(source, dict) else None
    return sha if isinstance(sha, str) else None


def converted_copy(bundle: Bundle, folder: Path | None = None) -> tuple[Path, bool]:
    """Where the converted copy of a model read from another format goes (the user's model folder, named
    after the source file), and whether that copy is already there (a file converted from the same bytes)."""
    folder = folder or user_dir()
    sha, stem = source_sha256(bundle.meta), bundle.path.stem if bundle.path else bundle.name
    for i in range(1, 1000):
        p = folder / (f"{stem}.safetensors" if i == 1 else f"{stem}-{i}.safetensors")
        if not p.exists():
            return p, False
        try:
            if sha is not None and source_sha256(read_metadata(p)) == sha:
                return p, True
        except ModelFileError:
            continue
    raise UserError(f"{folder} already holds a thousand models named {stem}; rename the file")
