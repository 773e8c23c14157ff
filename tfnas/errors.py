"""Errors a user can act on: each names the offending field and how to fix it."""


class TfnasError(Exception):
    """Base class of every error tfnas raises on purpose."""


class ConfigError(TfnasError, ValueError):
    """A configuration value is invalid; the message names the field and the valid choices."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


class InvalidArchitecture(TfnasError, ValueError):
    """An architecture breaks a rule of its search space; the message names the part and the rule."""
