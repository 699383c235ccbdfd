"""The settings file: engine/paths.py's settings_path() by default, and what QSettings kept natively taken over
once where that is not the same file (Windows' registry, a macOS plist; simulated here with QSettings.setPath)."""
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from gan_studio.engine import paths
from gan_studio.gui.settings import APP, ORG, Settings

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="redirects the config folder with XDG_CONFIG_HOME (Linux)")


@pytest.fixture
def config_home(monkeypatch, tmp_path):
    """settings_path() under tmp_path/config; the native QSettings store put back afterwards."""
    monkeypatch.delenv("GAN_STUDIO_SETTINGS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    native = Path(QSettings(ORG, APP).fileName()).parent.parent
    yield tmp_path / "config"
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(native))


def _native(folder: Path) -> QSettings:
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(folder))
    return QSettings(ORG, APP)


def test_default_file_is_where_qsettings_kept_it(config_home):
    old = _native(config_home)                   # Linux: QSettings(ORG, APP) is this same file
    old.setValue("models/last", "/m/a.safetensors")
    old.sync()
    s = Settings()
    assert Path(s.q.fileName()) == paths.settings_path() == config_home / "GAN Studio" / "gan-studio.conf"
    assert s.last_model == "/m/a.safetensors"


def test_native_settings_are_taken_over_once(config_home, tmp_path):
    old = _native(tmp_path / "elsewhere")       # the registry / plist of Windows / macOS
    old.setValue("models/last", "/m/a.safetensors")
    old.setValue("models/recent", ["/m/a.safetensors", "/m/b.safetensors"])
    old.sync()
    s = Settings()
    assert s.last_model == "/m/a.safetensors"
    assert s.recent_files() == ["/m/a.safetensors", "/m/b.safetensors"]
    assert paths.settings_path().is_file()
    s.last_model = "/m/b.safetensors"
    old.setValue("models/last", "/m/c.safetensors")
    old.sync()
    assert Settings().last_model == "/m/b.safetensors"    # the file has keys now: no second take-over


def test_a_given_file_takes_nothing_over(config_home, tmp_path):
    old = _native(tmp_path / "elsewhere")
    old.setValue("models/last", "/m/a.safetensors")
    old.sync()
    assert Settings(tmp_path / "mine.ini").last_model is None
