"""Which feature network an evaluation uses, what data it was trained on, and whether that is the evaluated data.

Convention: a feature network trained on the user's data (`gan-studio train-classifier --data DATA`, which by
default writes it there) lives beside the data as `DATA/features.safetensors` for a dataset folder, or
`DATA.features.safetensors` beside a dataset file. `evaluate` uses it when no `--features` is given; an explicit
`--features` always wins; otherwise the shipped lenet-mnist (trained on MNIST) is used.

Same data or not: the feature network's metadata records `dataset.fingerprints` (sha256 prefixes of the
train/test images, `fingerprint`); the shipped lenet-mnist predates them, so a dataset recorded as `mnist/...`
is checked against MNIST's known fingerprints. With no fingerprint at all the dataset names are compared.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from ..data.images import ImageDataset

BESIDE_NAME = "features.safetensors"
DEFAULT_SPEC = "lenet-mnist"
# the original MNIST IDX files (md5s equal to the published ones): sha256 prefixes of their decoded images
KNOWN_FINGERPRINTS = {"mnist": {"train": "0d4e8b667ff04890", "test": "310a79d8170296fe"}}


def fingerprint(data: ImageDataset) -> str:
    """A short content hash of a dataset's images (shape and bytes), the same for .gz and raw IDX files."""
    h = hashlib.sha256(str(tuple(data.images.shape)).encode())
    h.update(data.images.contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def features_beside(data_path: str | Path) -> Path:
    """Where a feature network trained on this data lives by convention (it may not exist)."""
    p = Path(data_path).expanduser()
    return p / BESIDE_NAME if p.is_dir() else p.with_name(p.name + "." + BESIDE_NAME)


def choose_features(spec: str | None, data_path: str | Path) -> tuple[str, str]:
    """(feature spec, source): the explicit `spec` ("given"), else the network beside the data ("beside the
    data"), else the shipped lenet-mnist ("shipped default")."""
    if spec:
        return spec, "given"
    beside = features_beside(data_path)
    if beside.is_file():
        return f"lenet-mnist:{beside}", "beside the data"
    return DEFAULT_SPEC, "shipped default"


def _stem(name: str) -> str:
    return str(name).split("/")[0].strip().lower()


def data_match(trained_on: dict | None, data: ImageDataset) -> bool | None:
    """True when `data` is (a split of) the data the feature network was trained on, False when it is not,
    None when that cannot be told (no record, or general-purpose features such as Inception)."""
    if not trained_on or trained_on.get("general"):
        return None
    known = trained_on.get("fingerprints") or KNOWN_FINGERPRINTS.get(_stem(trained_on.get("name", "")))
    if known:
        return fingerprint(data) in set(known.values())
    if trained_on.get("name") and data.name:
        return _stem(trained_on["name"]) == _stem(data.name)
    return None


def describe_trained_on(trained_on: dict | None) -> str:
    if not trained_on:
        return "unknown data"
    n = trained_on.get("n")
    return str(trained_on.get("name") or trained_on.get("path") or "unknown data") + (f" ({n:,} images)" if n else "")


def foreign_note(trained_on: dict | None, data: ImageDataset, data_path: str | Path) -> str:
    """The one-line warning for features trained on other data than `data`."""
    return (f"warning: these features were trained on {describe_trained_on(trained_on)}, not on "
            f"{data.name or 'this data'} — the numbers compare models only with each other on this data; for "
            f"features of this data run `gan-studio train-classifier --data {data_path}` (it writes "
            f"{features_beside(data_path).name} beside the data, which evaluate then uses)")


def features_report(extractor, source: str, data: ImageDataset, data_path: str | Path) -> dict:
    """The facts about the feature network for a metrics result (JSON-safe); `features_note` is the warning
    when the network was trained on other data (else None)."""
    trained_on = extractor.trained_on()
    match = data_match(trained_on, data)
    return {"features_source": source, "features_trained_on": trained_on, "features_data_match": match,
            "features_note": foreign_note(trained_on, data, data_path) if match is False else None,
            "data_fingerprint": fingerprint(data)}


def features_summary(result: dict) -> str:
    """`features: lenet-mnist (FILE, shipped default), trained on mnist/train (60,000 images)` for a result."""
    where = result.get("features_weights")
    return (f"features: {result.get('features', '?')} ({(where + ', ') if where else ''}"
            f"{result.get('features_source', 'source not recorded')}), "
            f"trained on {describe_trained_on(result.get('features_trained_on'))}")
