"""Where the user's files live: platformdirs' folders, the environment's overrides, and on Linux the folders
GAN Studio always used."""
import sys
from pathlib import Path

import platformdirs
import pytest

from gan_studio.engine import catalog, paths


@pytest.fixture
def no_overrides(monkeypatch):
    for var in ("GAN_STUDIO_HOME", "GAN_STUDIO_SETTINGS", "GAN_STUDIO_RESOURCES"):
        monkeypatch.delenv(var, raising=False)


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GAN_STUDIO_SETTINGS", str(tmp_path / "s.ini"))
    monkeypatch.setenv("GAN_STUDIO_RESOURCES", str(tmp_path / "shipped"))
    assert paths.user_data_dir() == tmp_path / "home"
    assert paths.user_models_dir() == catalog.user_dir() == tmp_path / "home" / "models"
    assert paths.cache_dir() == tmp_path / "home" / "cache"
    assert paths.settings_path() == tmp_path / "s.ini"
    assert paths.resources_dir() == catalog.shipped_dir() == tmp_path / "shipped"


def test_defaults_are_platformdirs_folders(no_overrides):
    assert paths.user_data_dir() == platformdirs.user_data_path("gan-studio", appauthor=False)
    assert paths.user_models_dir() == paths.user_data_dir() / "models"
    assert paths.cache_dir() == platformdirs.user_cache_path("gan-studio", appauthor=False)
    assert paths.settings_path().name == "gan-studio.conf"
    assert paths.resources_dir() == catalog.RESOURCES == Path(paths.__file__).resolve().parents[2] / "resources"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the folders of earlier versions were Linux's")
def test_linux_folders_stay_where_they_were(no_overrides, monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    home = Path("~").expanduser()
    assert paths.user_models_dir() == home / ".local/share/gan-studio/models"
    assert paths.settings_path() == home / ".config/GAN Studio/gan-studio.conf"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert catalog.user_dir() == tmp_path / "data" / "gan-studio" / "models"


def test_nothing_is_created(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_HOME", str(tmp_path / "home"))
    paths.user_models_dir(), paths.cache_dir(), paths.settings_path()
    assert not (tmp_path / "home").exists()
