"""Where GAN Studio's files live: the platform's own folders (platformdirs), or what the environment says.

    resources_dir()    $GAN_STUDIO_RESOURCES, else resources/ next to the package: the shipped models (in a
                       PyInstaller bundle, resources/ inside the bundle: sys._MEIPASS, packaging/gan-studio.spec)
    user_data_dir()    $GAN_STUDIO_HOME, else the user data folder "gan-studio": ~/.local/share/gan-studio
                       (or $XDG_DATA_HOME/gan-studio) on Linux, ~/Library/Application Support/gan-studio on
                       macOS, %LOCALAPPDATA%\\gan-studio on Windows
    user_models_dir()  user_data_dir()/models: the user's own model files
    settings_path()    $GAN_STUDIO_SETTINGS, else gan-studio.conf in the user config folder "GAN Studio":
                       ~/.config/GAN Studio/gan-studio.conf on Linux, the file QSettings("GAN Studio",
                       "gan-studio") has always used there
    cache_dir()        $GAN_STUDIO_HOME/cache, else the user cache folder "gan-studio" (~/.cache/gan-studio)

Nothing here creates a folder; the code that writes a file does (atomic_write).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP = "gan-studio"              # the folder name of the data and cache folders
SETTINGS_ORG = "GAN Studio"     # the config folder, as QSettings(organisation, application) names it
SETTINGS_FILE = f"{APP}.conf"
RESOURCES = (Path(sys._MEIPASS) if getattr(sys, "frozen", False) and hasattr(sys, "_MEIPASS")
             else Path(__file__).resolve().parents[2]) / "resources"


def resources_dir() -> Path:
    return Path(os.environ.get("GAN_STUDIO_RESOURCES", RESOURCES))


def _home() -> Path | None:
    home = os.environ.get("GAN_STUDIO_HOME")
    return Path(home) if home else None


def user_data_dir() -> Path:
    return _home() or platformdirs.user_data_path(APP, appauthor=False)


def user_models_dir() -> Path:
    return user_data_dir() / "models"


def settings_path() -> Path:
    path = os.environ.get("GAN_STUDIO_SETTINGS")
    return Path(path) if path else platformdirs.user_config_path(SETTINGS_ORG, appauthor=False) / SETTINGS_FILE


def cache_dir() -> Path:
    home = _home()
    return home / "cache" if home else platformdirs.user_cache_path(APP, appauthor=False)
