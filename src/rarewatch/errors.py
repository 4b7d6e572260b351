"""The errors rarewatch raises at its boundaries. Each message names the bad value and the fix."""


class RarewatchError(ValueError):
    """Bad input or configuration: reported to the user as one readable line, never a traceback."""


class ConfigError(RarewatchError):
    """A missing, extra, mistyped or out-of-range configuration value."""


class DataError(RarewatchError):
    """Input data that cannot be used as it is (missing column, wrong type, no normal rows...)."""
