"""Click options generated from the settings table, so flags and docs never drift apart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from mlvitals.settings import SETTINGS, Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])
_BY_NAME = {s.name: s for s in SETTINGS}


def setting_options(*names: str) -> Callable[[F], F]:
    """Add ``--flag`` options for the named settings (defaults resolved by load_settings)."""

    def decorate(fn: F) -> F:
        for name in reversed(names):
            s = _BY_NAME[name]
            help_text = f"{s.help} [env: {s.env_var}; default: {s.default!r}]"
            if s.is_flag:
                fn = click.option(s.flag, name, is_flag=True, default=None, help=help_text)(fn)
            else:
                fn = click.option(s.flag, name, default=None, help=help_text)(fn)
        return fn

    return decorate


def settings_from(options: dict[str, Any]) -> Settings:
    """Resolve settings from the options a command received (unset flags are ``None``)."""
    return load_settings({k: v for k, v in options.items() if k in _BY_NAME})
