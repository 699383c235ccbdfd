"""Model names on the command line: a listed model, a feature network the list leaves out, a name that is nothing."""
from __future__ import annotations

import shutil

import pytest

from gan_studio.engine import catalog
from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.errors import UserError
from tests.conftest import make_tiny_bundle

SHIPPED = catalog.RESOURCES


@pytest.fixture
def folders(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GAN_STUDIO_RESOURCES", str(tmp_path / "shipped"))
    (tmp_path / "shipped").mkdir()
    make_tiny_bundle(tmp_path / "shipped" / "tiny.safetensors")
    return tmp_path / "shipped"


def test_a_listed_model_resolves_by_name_and_a_feature_network_is_not_listed(folders):
    if not (SHIPPED / "lenet-mnist.safetensors").is_file():
        pytest.skip("the shipped lenet-mnist.safetensors is not in resources/")
    shutil.copy(SHIPPED / "lenet-mnist.safetensors", folders / "lenet-mnist.safetensors")
    assert [e.path.name for e in catalog.list_models()] == ["tiny.safetensors"]
    assert catalog.resolve_model("tiny") == folders / "tiny.safetensors"
    # left out of the list, still found by its name: the command then says what it is
    for name in ("lenet-mnist", "lenet-mnist.safetensors"):
        path = catalog.resolve_model(name)
        assert path == folders / "lenet-mnist.safetensors"
        assert load_bundle(path).kind == "classifier"


def test_a_name_that_is_nothing_lists_the_models(folders):
    with pytest.raises(UserError, match=r"no model file or model named 'nothing' \(models: .+\)"):
        catalog.resolve_model("nothing")
    (folders / "junk.safetensors").write_bytes(b"not a model")          # unreadable: never "found" by name
    with pytest.raises(UserError, match="no model file or model named 'junk'"):
        catalog.resolve_model("junk")


def test_a_folder_is_named_as_a_folder(folders, tmp_path):
    (tmp_path / "d.safetensors").mkdir()
    with pytest.raises(UserError, match=r"d.safetensors is a folder, not a model file"):
        catalog.resolve_model(str(tmp_path / "d.safetensors"))
    from gan_studio.engine.bundle import load_bundle as load
    from gan_studio.engine.errors import ModelFileError
    from gan_studio.engine.image_input import read_grayscale
    (tmp_path / "pic.png").mkdir()
    with pytest.raises(ModelFileError, match="is a folder, not a file"):
        load(tmp_path / "d.safetensors")
    from gan_studio.engine.bundle import read_metadata
    from gan_studio.engine.latent.directions import load_directions
    for read in (read_metadata, load_directions):       # once "not a readable safetensors file (No such device)"
        with pytest.raises(ModelFileError, match="d.safetensors is a folder, not a file"):
            read(tmp_path / "d.safetensors")
    with pytest.raises(UserError, match="pic.png is a folder, not a file"):
        read_grayscale(tmp_path / "pic.png")
    with pytest.raises(UserError, match="nope.png: no such file"):
        read_grayscale(tmp_path / "nope.png")
