"""Issue 22, classes 1 and 2: hostile model files. Wrong JSON types in the metadata, and a config that declares
networks far bigger than the file's tensors (or a state_dict's stride-0 giant), are each one ModelFileError line
naming the problem, found before any network is allocated; the model list skips such files with their reason.

The hostile files are a tiny real model's metadata rewritten (its tensors kept), written into tmp_path."""
from __future__ import annotations

import copy
import glob
import json
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from gan_studio.cli.main import main
from gan_studio.engine import catalog
from gan_studio.engine.bundle import META_KEY, load_bundle, read_metadata, save_bundle, save_imported
from gan_studio.engine.errors import ModelFileError
from gan_studio.engine.model_meta import check_tensors_fit, expected_shapes
from gan_studio.engine.models import build
from gan_studio.engine.torchload import check_plain_tensors
from tests.conftest import RESOURCES, make_tiny_bundle
from tests.engine.test_nvlabs_sg3 import FIX
from tests.engine.voxel_toys import TINY_ARCH


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """(tensors, metadata) of a tiny DCGAN file (width 8, z_dim 16, 28 px)."""
    path = make_tiny_bundle(tmp_path_factory.mktemp("base") / "tiny.safetensors")
    return load_file(str(path)), read_metadata(path)


def write(path: Path, tensors: dict, meta=None, raw: str | None = None) -> Path:
    save_file(tensors, str(path), metadata={META_KEY: raw if raw is not None else json.dumps(meta)})
    return path


def one_line_error(path: Path, *words: str) -> str:
    with pytest.raises(ModelFileError) as err:
        load_bundle(path)
    msg = str(err.value)
    assert "\n" not in msg and path.name in msg, msg
    for w in words:
        assert w in msg, msg
    return msg


def _nested(depth: int):
    v: list = []
    for _ in range(depth):
        v = [v]
    return v


# (label, changes to the metadata (None: drop the key), words the one line must hold)
HOSTILE_META = [
    ("arch a list", {"arch": ["dcgan"]}, "metadata arch must be a string, not ['dcgan']"),
    ("no arch", {"arch": None}, "metadata has no arch"),
    ("config a string", {"config": "width=8"}, "metadata config must be a JSON object"),
    ("networks an int", {"networks": 3}, "metadata networks must be a list, not 3"),
    ("networks of ints", {"networks": ["generator", 5]}, "metadata networks[1] must be a string"),
    ("a network the architecture lacks", {"networks": ["generator", "painter"]}, "painter"),
    ("z_dim a float", {"z_dim": 16.5}, "metadata z_dim must be an integer, not 16.5"),
    ("z_dim 1e9 as a float", {"z_dim": 1e9}, "metadata z_dim must be an integer"),
    ("z_dim true", {"z_dim": True}, "metadata z_dim must be an integer, not True"),
    ("z_dim 0", {"z_dim": 0}, "metadata z_dim must be in [1, "),
    ("w_dim a string", {"w_dim": "16"}, "metadata w_dim must be an integer"),
    ("num_ws 0", {"num_ws": 0}, "metadata num_ws must be in [1, "),
    ("c_dim negative", {"c_dim": -1}, "metadata c_dim"),
    ("threshold a string", {"threshold": "0.5"}, "metadata threshold must be a number, not '0.5'"),
    ("threshold 2", {"threshold": 2}, "metadata threshold must be in [0, 1]"),
    ("threshold null", {"threshold": None}, "metadata threshold must be a number, not None"),
    ("image_shape of two", {"image_shape": [28, 28]}, "metadata image_shape must be a list of 3"),
    ("image_shape a string", {"image_shape": "1x28x28"}, "metadata image_shape must be a list of 3"),
    ("image_shape negative", {"image_shape": [1, -28, 28]}, "metadata image_shape[1] must be in [1, "),
    ("value_range of one", {"value_range": [1]}, "metadata value_range must be a list of 2"),
    ("value_range reversed", {"value_range": [1, -1]}, "metadata value_range must be [low, high]"),
    ("value_range of strings", {"value_range": ["-1", "1"]}, "metadata value_range[0] must be a number"),
    ("name an int", {"name": 7}, "metadata name must be a string, not 7"),
    ("kind an int", {"kind": 3}, "metadata kind must be a string"),
    ("kind unknown", {"kind": "painting"}, "metadata kind must be one of"),
    ("kind of another family", {"kind": "voxel-model"}, "metadata kind must be 'image-generator'"),
    ("dataset a list", {"dataset": ["mnist"]}, "metadata dataset must be a JSON object or a string"),
    ("training a list", {"training": [1, 2]}, "metadata training must be a JSON object"),
    ("training.step a string", {"training": {"step": "100"}}, "metadata training.step must be an integer"),
    ("training.seconds negative", {"training": {"seconds": -1}}, "metadata training.seconds"),
    ("training.loss a list", {"training": {"loss": ["ns"]}}, "metadata training.loss must be a string"),
    ("training.history a dict", {"training": {"history": {}}}, "metadata training.history must be a list"),
    ("metrics a number", {"metrics": 3}, "metadata metrics must be a JSON object"),
    ("metrics.iou_test a number", {"metrics": {"iou_test": 0.5}}, "metadata metrics.iou_test"),
    ("stored.precision a number", {"stored": {"precision": 16}}, "metadata stored.precision"),
    ("conditional without classes", {"conditional": True}, "metadata num_classes"),
    ("conditional a string", {"conditional": "yes"}, "metadata conditional must be true or false"),
    ("info a string", {"info": "10 categories"}, "metadata info must be a JSON object"),
    ("classes of ints", {"classes": [1, 2]}, "metadata classes[0] must be a string"),
    ("license a dict", {"license": {"x": 1}}, "metadata license must be a string"),
    ("parameters of strings", {"parameters": {"generator": "1M"}}, "metadata parameters.generator"),
    ("schema_version a string", {"schema_version": "1"}, "schema version '1' is not supported"),
    ("schema_version true", {"schema_version": True}, "schema version True"),
    ("nested 100 deep", {"dataset": {"x": _nested(100)}}, "nested more than 64 levels"),
    ("config width a string", {"config": {"width": "8"}}, "metadata config is not a valid dcgan config",
     "width must be an integer"),
    ("config z_dim a float", {"config": {"z_dim": 16.5}}, "z_dim must be an integer"),
    ("config unknown key", {"config": {"wdth": 8}}, "unknown key(s) wdth"),
    ("config bad resolution", {"config": {"img_resolution": 30}}, "img_resolution must be one of"),
    ("config a list inside", {"config": {"width": [8]}}, "width must be an integer"),
]


@pytest.mark.parametrize("label,change,words", [(c[0], c[1], c[2:]) for c in HOSTILE_META],
                         ids=[c[0] for c in HOSTILE_META])
def test_wrong_metadata_is_one_line_naming_the_key(base, tmp_path, label, change, words):
    tensors, meta = base
    meta = copy.deepcopy(meta)
    for k, v in change.items():
        if k == "config":
            v = dict(meta["config"], **v) if isinstance(v, dict) else v
        if v is None and k == "arch":
            meta.pop(k)
        else:
            meta[k] = v
    path = write(tmp_path / "hostile.safetensors", tensors, meta)
    msg = one_line_error(path, *words)
    with pytest.raises(ModelFileError) as err:           # the model list and the metadata reader say the same
        read_metadata(path)
    assert str(err.value) == msg


RAW = [
    ("not JSON", '{"schema_version": 1, "kind": ', "metadata is not valid JSON"),
    ("a list", "[1, 2, 3]", "metadata is not a JSON object"),
    ("200,000 deep", '{"schema_version": 1, "x": ' + "[" * 200_000 + "]" * 200_000 + "}", "nested too deeply"),
    ("a 5000-digit integer", '{"schema_version": 1, "z_dim": ' + "9" * 5000 + "}", "4300 digits"),
    ("NaN z_dim", '{"schema_version": 1, "kind": "image-generator", "arch": "dcgan", "z_dim": NaN}',
     "metadata z_dim must be an integer, not nan"),
    ("infinite threshold", '{"schema_version": 1, "arch": "dcgan", "threshold": Infinity}',
     "metadata threshold must be a finite number"),
]


@pytest.mark.parametrize("label,raw,words", RAW, ids=[r[0] for r in RAW])
def test_unreadable_metadata_text_is_one_line(base, tmp_path, label, raw, words):
    t0 = time.perf_counter()
    one_line_error(write(tmp_path / "raw.safetensors", base[0], raw=raw), words)
    assert time.perf_counter() - t0 < 5


# ---------------------------------------------------------------- class 2: declared networks vs the file's tensors

@pytest.mark.parametrize("config,words", [
    ({"width": 3000}, ["critic.net.0.weight", "[3000, 1, 4, 4]", '"width": 3000']),
    ({"width": 100_000}, ["do not fit", '"width": 100000']),
    ({"z_dim": 10**9}, ["generator.fc.0.weight", '"z_dim": 1000000000']),
    ({"z_dim": 10**30}, ["does not give a buildable dcgan"]),
    ({"width": 16}, ["do not fit"]),
])
def test_a_config_bigger_than_the_file_is_refused_before_allocating(base, tmp_path, config, words):
    tensors, meta = base
    meta = dict(meta, config=dict(meta["config"], **config))
    path = write(tmp_path / "lying.safetensors", tensors, meta)
    t0 = time.perf_counter()
    one_line_error(path, *words)
    assert time.perf_counter() - t0 < 2, "built the declared networks instead of checking on the meta device"


def test_missing_renamed_and_extra_tensors_are_named(base, tmp_path):
    tensors, meta = base
    missing = {k: v for k, v in tensors.items() if k != "generator.fc.0.weight"}
    one_line_error(write(tmp_path / "a.safetensors", missing, meta), "no tensor generator.fc.0.weight")
    extra = dict(tensors, **{"generator.extra": torch.zeros(3)})
    one_line_error(write(tmp_path / "b.safetensors", extra, meta), "generator.extra is not part of this network")
    flat = dict(tensors, **{"critic.fc.weight": torch.zeros(1, 7)})
    one_line_error(write(tmp_path / "c.safetensors", flat, meta), "critic.fc.weight is [1, 7] in the file")


def test_the_parameter_cap_holds_for_matching_tensors(base):
    _, meta = base
    shapes = {}
    for role in ("generator", "critic"):
        want, _ = expected_shapes("dcgan", role, meta["config"], "x")
        shapes.update({f"{role}.{k}": s for k, s in want.items()})
    assert check_tensors_fit(meta, shapes, "x") == ["critic", "generator"]
    with pytest.raises(ModelFileError, match="more than the cap of 1,000"):
        check_tensors_fit(meta, shapes, "x.safetensors", cap=1000)


def _generator_state(base) -> dict:
    tensors, _ = base
    return {k.split(".", 1)[1]: v.clone() for k, v in tensors.items() if k.startswith("generator.")}


def test_a_stride0_giant_in_a_state_dict_is_refused(base, tmp_path):
    sd = _generator_state(base)
    rows = sd["fc.0.weight"].shape[0]
    sd["fc.0.weight"] = torch.zeros(1).expand(rows, 10**9)       # 2 * 10**12 numbers from one float
    torch.save(sd, tmp_path / "giant.pt")
    assert (tmp_path / "giant.pt").stat().st_size < 2_000_000
    t0 = time.perf_counter()
    one_line_error(tmp_path / "giant.pt", "fc.0.weight", "stride-0")
    assert time.perf_counter() - t0 < 2
    torch.save({"w": torch.zeros(1).expand(10**9)}, tmp_path / "flat.pt")
    one_line_error(tmp_path / "flat.pt", "tensor w claims 1,000,000,000 numbers", "stores 1")


def test_other_state_dict_oddities_are_one_line(base, tmp_path):
    torch.save({1: torch.zeros(3)}, tmp_path / "intkeys.pt")
    one_line_error(tmp_path / "intkeys.pt", "expected a state_dict")
    sd = _generator_state(base)
    sd["fc.0.weight"] = sd["fc.0.weight"].to_sparse()
    torch.save(sd, tmp_path / "sparse.pt")
    one_line_error(tmp_path / "sparse.pt", "fc.0.weight", "not plain weights")
    with pytest.raises(ModelFileError, match="more than 10 numbers"):
        check_plain_tensors({"a": torch.zeros(8), "b": torch.zeros(8)}, "x.pt", cap=10)
    small = {"b": torch.zeros(1).expand(100)}                   # a small broadcast passes (it allocates nothing)
    check_plain_tensors(small, "x.pt", cap=10**6)


def test_an_inferred_config_is_checked_on_the_meta_device(base, tmp_path):
    sd = _generator_state(base)
    sd["net.3.weight"] = torch.zeros(4000, 1, 4, 4)              # a last conv of 4000 channels: inferred width
    torch.save(sd, tmp_path / "odd.pt")
    one_line_error(tmp_path / "odd.pt", "do not fit")
    torch.save(_generator_state(base), tmp_path / "plain.pt")   # the real one still loads
    assert load_bundle(tmp_path / "plain.pt").generator().z_dim == 16


# ---------------------------------------------------------------- the other kinds

def _voxel_file(tmp_path: Path, **meta) -> Path:
    nets = {r: build("voxel-iwgan", r, TINY_ARCH) for r in ("generator", "encoder")}
    base_meta = {"kind": "voxel-model", "arch": "voxel-iwgan", "config": TINY_ARCH, "threshold": 0.5,
                 "voxel_shape": [32, 32, 32], "value_range": [0, 1], "classes": ["box", "ball"]}
    return save_bundle(tmp_path / "vox.safetensors", nets, {**base_meta, **meta})


def test_voxel_classifier_and_directions_metadata(tmp_path):
    assert load_bundle(_voxel_file(tmp_path)).kind == "voxel-model"
    one_line_error(_voxel_file(tmp_path, threshold="high"), "metadata threshold must be a number")
    one_line_error(_voxel_file(tmp_path, voxel_shape=[32, 32]), "metadata voxel_shape must be a list of 3")
    one_line_error(_voxel_file(tmp_path, config=dict(TINY_ARCH, image_size=48)), "image_size must be one of")
    one_line_error(_voxel_file(tmp_path, config=dict(TINY_ARCH, g_width=10**6)), "do not fit")
    lenet = build("lenet", "classifier", {})
    path = save_bundle(tmp_path / "cls.safetensors", {"classifier": lenet},
                       {"kind": "classifier", "arch": "lenet", "config": {"num_classes": "10"}})
    one_line_error(path, "metadata config is not a valid lenet config", "num_classes must be an integer")
    path = save_bundle(tmp_path / "cls.safetensors", {"classifier": lenet},
                       {"kind": "classifier", "arch": "lenet", "config": {"num_classes": -3}})
    one_line_error(path, "num_classes and feature_dim must be positive")
    directions = {"directions": torch.eye(2, 16)}
    for meta, words in [({"space": "q"}, "metadata space must be one of z, w"),
                        ({"names": "a,b"}, "metadata names must be a list"),
                        ({"starred": [-1]}, "metadata starred[0]"), ({"steps": 1.5}, "metadata steps")]:
        path = write(tmp_path / "dirs.safetensors", directions,
                     {"schema_version": 1, "kind": "directions", "method": "sefa", **meta})
        with pytest.raises(ModelFileError, match=words.replace("[", r"\[").replace("]", r"\]")):
            read_metadata(path)


def test_real_models_pass_the_checks(tmp_path):
    """The shipped models, and NVlabs networks converted to our format, load as before."""
    for p in sorted(RESOURCES.glob("*.safetensors")):
        assert load_bundle(p).networks, p
    pickles = sorted(glob.glob(str(FIX / "*.pkl")))
    for f in pickles:
        out = save_imported(load_bundle(f), tmp_path / (Path(f).stem + ".safetensors"))
        assert load_bundle(out).generator().z_dim > 0
    if not pickles:
        pytest.skip(f"NVlabs fixtures not found at {FIX} (the shipped models passed)")


def test_nvlabs_skeleton_declaring_a_giant_is_refused(tmp_path):
    pickles = sorted(glob.glob(str(FIX / "stylegan2-ada*.pkl")))
    if not pickles:
        pytest.skip(f"NVlabs fixtures not found at {FIX}")
    out = save_imported(load_bundle(pickles[0]), tmp_path / "sg2.safetensors")
    meta, tensors = read_metadata(out), load_file(str(out))
    tree = meta["config"]["generator"]
    spec = next(s for s in tree["modules"]["mapping"]["modules"]["fc0"]["params"].values() if s)
    spec["shape"] = [100_000, 100_000]
    one_line_error(write(tmp_path / "giant.safetensors", tensors, meta), "do not fit")
    meta["config"]["generator"] = 5
    one_line_error(write(tmp_path / "five.safetensors", tensors, meta), "generator must be a JSON object")


# ---------------------------------------------------------------- the model list and the command line

def test_the_model_list_skips_hostile_files_with_their_reason(base, tmp_path, monkeypatch):
    tensors, meta = base
    folder = tmp_path / "home" / "models"
    folder.mkdir(parents=True)
    monkeypatch.setenv("GAN_STUDIO_HOME", str(tmp_path / "home"))
    write(folder / "good.safetensors", tensors, dict(meta, name="good"))
    write(folder / "kind.safetensors", tensors, dict(meta, kind=["image-generator"]))
    write(folder / "deep.safetensors", tensors, raw='{"a": ' + "[" * 200_000 + "]" * 200_000 + "}")
    write(folder / "arch.safetensors", tensors, dict(meta, arch=3))
    (folder / "junk.safetensors").write_bytes(b"\x00" * 64)
    assert [e.name for e in catalog.list_models() if e.path.parent == folder] == ["good"]
    bad = {u.path.name: u.reason for u in catalog.unreadable_models() if u.path.parent == folder}
    assert set(bad) == {"kind.safetensors", "deep.safetensors", "arch.safetensors", "junk.safetensors"}
    assert "metadata kind must be a string" in bad["kind.safetensors"]
    assert all("\n" not in r for r in bad.values())


def cli(capsys, *args):
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("change,words", [
    ({"z_dim": 1.5}, "metadata z_dim must be an integer"),
    ({"networks": 3}, "metadata networks must be a list"),
    ({"config": {"width": 3000}}, "critic.net.0.weight"),
    ({"threshold": "x"}, "metadata threshold must be a number"),
])
def test_info_on_a_hostile_file_is_exit_2_and_one_line(base, tmp_path, capsys, change, words):
    tensors, meta = base
    if "config" in change:
        change = {"config": dict(meta["config"], **change["config"])}
    path = write(tmp_path / "hostile.safetensors", tensors, dict(meta, **change))
    code, _, err = cli(capsys, "info", "--model", path)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, (code, err)
    assert words in lines[0] and "hostile.safetensors" in lines[0], lines[0]


def test_info_on_a_stride0_state_dict_in_a_real_process(base, tmp_path):
    from tests.e2e.test_cli import assert_user_error, run
    sd = _generator_state(base)
    sd["fc.0.weight"] = torch.zeros(1).expand(sd["fc.0.weight"].shape[0], 10**9)
    torch.save(sd, tmp_path / "giant.pt")
    assert_user_error(run("info", "--model", tmp_path / "giant.pt", check=False), "giant.pt", "stride-0")
