"""ctwatch.toml: one configuration file read the same way by the DAGs, the command line, the
launcher and the demo (docs/configuration.md)."""

from ctwatch.config.settings import (
    CONFIG_ENV,
    AlertSettings,
    Settings,
    config_file,
    load_settings,
    settings_from,
)
from ctwatch.evaluate.config import ConfigError

__all__ = [
    "CONFIG_ENV",
    "AlertSettings",
    "ConfigError",
    "Settings",
    "config_file",
    "load_settings",
    "settings_from",
]
