"""Click options generated from the settings table, so flags and docs never drift apart."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from mlvitals.durations import parse_duration
from mlvitals.errors import DurationError
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


if TYPE_CHECKING:  # generic from click 8.2 on; the runtime class is used as it is
    _ParamType = click.ParamType[float, Any]
else:
    _ParamType = click.ParamType


class Duration(_ParamType):
    """A CLI option in the duration grammar (``90``, ``30s``, ``1h30m``), as seconds.

    >>> Duration(positive=True).convert("1h30m", None, None)
    5400.0
    """

    name = "duration"

    def __init__(self, *, positive: bool = False) -> None:
        self.positive = positive

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            return parse_duration(value, positive=self.positive)
        except DurationError as exc:
            self.fail(str(exc), param, ctx)
