"""One settings table.

``SETTINGS`` drives everything that can be configured: the CLI flags (``--db``), the
``MLVITALS_*`` environment variables (``MLVITALS_DB``) and ``docs/configuration.md``
(regenerate it with ``python -m mlvitals.settings > docs/configuration.md``).
This is the only module that reads the environment.

Precedence: CLI flag, then environment variable, then the default.

>>> s = load_settings({"port": "9000"}, environ={"MLVITALS_HOST": "0.0.0.0"})
>>> (s.host, s.port, s.db)
('0.0.0.0', 9000, 'mlvitals.db')
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlvitals.durations import parse_duration
from mlvitals.errors import ConfigError


def _parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _parse_port(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise ValueError(f"must be 0-65535, got {port}")
    return port


def _parse_positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError(f"must be a positive integer, got {number}")
    return number


def _parse_positive_duration(value: str) -> float:
    return parse_duration(value, positive=True)


def _parse_server_url(value: str) -> str:
    if value and not value.startswith(("http://", "https://")):
        raise ValueError(f"must be an http:// or https:// URL, got {value!r}")
    return value


def _parse_positive_float(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError(f"must be a positive number, got {value}")
    return number


@dataclass(frozen=True, slots=True)
class Setting:
    """One configurable value: its name, default, parser and the help shown everywhere."""

    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str
    is_flag: bool = False

    @property
    def env_var(self) -> str:
        return "MLVITALS_" + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "db",
        "mlvitals.db",
        "Database: a SQLite file path (created if missing) or a postgresql:// URL. Logs, "
        "errors and pages show it with any password as ***.",
    ),
    Setting("host", "127.0.0.1", "Address the server binds to."),
    Setting("port", 8765, "Port the server listens on.", _parse_port),
    Setting(
        "tokens",
        "",
        "API tokens as TOKEN:SCOPE[,SCOPE] entries separated by ';'. Scopes: ingest, read, "
        "admin (admin implies the others). Empty with no tokens file: no authentication.",
    ),
    Setting(
        "tokens_file",
        "",
        "YAML file with a list 'tokens' of {token, scopes} entries, merged with --tokens.",
    ),
    Setting(
        "insecure",
        False,
        "Allow binding a non-loopback address without any token configured.",
        _parse_bool,
        is_flag=True,
    ),
    Setting(
        "max_body_bytes",
        16 * 1024 * 1024,
        "Largest accepted request body in bytes, before and after gzip decoding.",
        _parse_positive_int,
    ),
    Setting(
        "max_record_age",
        3650 * 86400.0,
        "How far before the server's clock a record's time may be (a duration; the default "
        "is 3650d, about ten years); older records are rejected naming the field.",
        _parse_positive_duration,
    ),
    Setting(
        "max_record_ahead",
        86400.0,
        "How far after the server's clock a record's time may be (a duration, default 1d).",
        _parse_positive_duration,
    ),
    Setting("pg_pool_size", 8, "Connections in the PostgreSQL pool.", _parse_positive_int),
    Setting(
        "shutdown_timeout",
        30.0,
        "How long the server waits for in-flight requests on shutdown (a duration: 30, 30s).",
        _parse_positive_duration,
    ),
    Setting("log_level", "info", "Server log level: debug, info, warning or error."),
    Setting(
        "workers",
        1,
        "Server processes sharing the port (each runs the API; over SQLite they share one "
        "file, over PostgreSQL they scale out).",
        _parse_positive_int,
    ),
    Setting(
        "probes_file",
        "",
        "YAML file of uptime probe targets: a list 'probes' of {name, url, interval, timeout, "
        "expect_status}; url is http(s):// (a GET) or tcp://host:port (a connect); interval "
        "(default 30s) and timeout (default 5s) are durations.",
    ),
    Setting(
        "down_after",
        60.0,
        "How long without a report before a service instance shows as down (a duration).",
        _parse_positive_duration,
    ),
    Setting(
        "rollup_interval",
        60.0,
        "Time between rollup and retention passes over serving data (a duration).",
        _parse_positive_duration,
    ),
    Setting(
        "late_seconds",
        7200.0,
        "How late a serving window may arrive and still be counted in the rollups (a duration).",
        _parse_positive_duration,
    ),
    Setting(
        "retention_raw_days",
        8.0,
        "Days raw serving windows, instance samples and probe results are kept.",
        _parse_positive_float,
    ),
    Setting(
        "retention_minute_days",
        35.0,
        "Days 1-minute serving rollups are kept.",
        _parse_positive_float,
    ),
    Setting(
        "retention_hour_days",
        400.0,
        "Days 1-hour serving rollups are kept.",
        _parse_positive_float,
    ),
    Setting(
        "max_services",
        1000,
        "Most model services the server accepts serving records of; records of a new service "
        "past it are rejected with the reason in the ingest reply. Counted per server process "
        "from the stored raw windows and samples, so approximate with several workers.",
        _parse_positive_int,
    ),
    Setting(
        "max_series_per_service",
        1000,
        "Most serving series (operation x version x instance) one service may have; windows "
        "of a new series past it are rejected with the reason in the ingest reply. Per server "
        "process, approximate with several workers; retention frees slots.",
        _parse_positive_int,
    ),
    Setting(
        "rate_card",
        "",
        "YAML cost configuration: currency, rates with effective dates, allocations, storage "
        "rules (see docs/cost.md). Empty: built-in public on-demand prices in USD.",
    ),
    Setting(
        "budgets_file",
        "",
        "YAML file with a list 'budgets' of {name, limit, period (daily|monthly), scope "
        "(total|service|pipeline), subject}; budgets can also be set through the API.",
    ),
    Setting(
        "run_id",
        "",
        "Pipeline run to join: runs and steps started in this process become part of it "
        "(set it in a child process from run.child_env()).",
    ),
    Setting("parent_step_id", "", "Step of the joined run that steps in this process nest under."),
    Setting(
        "instance",
        "",
        "The SDK's name for this process in its service's fleet (Monitor's instance=). "
        "Empty: the hostname (the pod name in Kubernetes) for a container's main process, "
        "else host:pid.",
    ),
    Setting(
        "server",
        "",
        "Server a Monitor ships to when none is given (http:// or https:// base URL). "
        "Empty: ship nothing (Prometheus only).",
        _parse_server_url,
    ),
    Setting("token", "", "Bearer token a Monitor sends when none is given (ingest scope)."),
    Setting(
        "cpu_sample_interval",
        0.005,
        "SDK: a tracked call or request has its CPU time measured only if the last measured "
        "one of its operation started at least this long before (a duration); a window's CPU "
        "seconds scale the measured calls up to all. 0: measure every call.",
        parse_duration,
    ),
    Setting("service", "", "Service name of a Monitor created without one."),
    Setting("version", "", "Service version of a Monitor created without one."),
    Setting(
        "rules_file",
        "",
        "YAML file of alert rules, receivers and routes (see docs/alerts.md). Empty: the "
        "default rule pack, with no notifications.",
    ),
    Setting(
        "alert_interval",
        15.0,
        "Time between evaluations of the alert rules (a duration: 15, 15s, 1m).",
        _parse_positive_duration,
    ),
    Setting(
        "external_url",
        "",
        "URL users reach this server at, used in links of alert notifications. "
        "Empty: http://HOST:PORT.",
    ),
    Setting(
        "smtp_password",
        "",
        "Password for the SMTP login of e-mail receivers (set it in the environment).",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved settings; build it with :func:`load_settings`, or directly in tests."""

    db: str = "mlvitals.db"
    host: str = "127.0.0.1"
    port: int = 8765
    tokens: str = field(default="", repr=False)
    tokens_file: str = ""
    insecure: bool = False
    max_body_bytes: int = 16 * 1024 * 1024
    max_record_age: float = 3650 * 86400.0
    max_record_ahead: float = 86400.0
    pg_pool_size: int = 8
    shutdown_timeout: float = 30.0
    log_level: str = "info"
    workers: int = 1
    probes_file: str = ""
    down_after: float = 60.0
    rollup_interval: float = 60.0
    late_seconds: float = 7200.0
    retention_raw_days: float = 8.0
    retention_minute_days: float = 35.0
    retention_hour_days: float = 400.0
    max_services: int = 1000
    max_series_per_service: int = 1000
    rate_card: str = ""
    budgets_file: str = ""
    run_id: str = ""
    parent_step_id: str = ""
    instance: str = ""
    server: str = ""
    token: str = field(default="", repr=False)
    cpu_sample_interval: float = 0.005
    service: str = ""
    version: str = ""
    rules_file: str = ""
    alert_interval: float = 15.0
    external_url: str = ""
    smtp_password: str = field(default="", repr=False)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve every setting from CLI overrides, then ``MLVITALS_*`` variables, then defaults.

    Overrides whose value is ``None`` count as not given.
    Raises :class:`~mlvitals.errors.ConfigError` naming the flag or variable that is wrong.
    """
    env = os.environ if environ is None else environ
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = set(given) - set(_BY_NAME)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.name in given:
            raw, source = given[setting.name], setting.flag
        elif setting.env_var in env:
            raw, source = env[setting.env_var], setting.env_var
        else:
            values[setting.name] = setting.default
            continue
        if isinstance(raw, str):
            try:
                values[setting.name] = setting.parse(raw)
            except ValueError as exc:
                raise ConfigError(f"{source}: {exc}") from None
        else:
            values[setting.name] = raw
    return Settings(**values)


def setting_value(name: str, environ: Mapping[str, str] | None = None) -> Any:
    """One setting from its ``MLVITALS_*`` variable, else its default; unlike
    :func:`load_settings`, a malformed variable of another setting does not matter.

    >>> setting_value("instance", environ={"MLVITALS_INSTANCE": "replica-3"})
    'replica-3'
    """
    return resolve({name: None}, environ)[name]


def resolve(
    explicit: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Resolve only the named settings: a given value (not ``None``) wins over its
    ``MLVITALS_*`` variable, which wins over the default. Other variables are not read, so a
    bad value of an unrelated setting cannot break the caller.

    >>> resolve({"service": None, "version": "2"}, environ={"MLVITALS_SERVICE": "fraud"})
    {'service': 'fraud', 'version': '2'}
    """
    env = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    for name, value in explicit.items():
        setting = _BY_NAME[name]
        if value is not None:
            out[name] = value
        elif setting.env_var in env:
            try:
                out[name] = setting.parse(env[setting.env_var])
            except ValueError as exc:
                raise ConfigError(f"{setting.env_var}: {exc}") from None
        else:
            out[name] = setting.default
    return out


def to_environ(settings: Settings) -> dict[str, str]:
    """The ``MLVITALS_*`` variables that reproduce ``settings`` in another process."""
    out = {}
    for s in SETTINGS:
        value = getattr(settings, s.name)
        out[s.env_var] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


def markdown_table() -> str:
    """The settings table as Markdown, for ``docs/configuration.md``."""
    lines = [
        "# Configuration",
        "",
        "<!-- generated by `python -m mlvitals.settings`; edit SETTINGS in settings.py -->",
        "",
        "Every setting is a CLI flag and an environment variable. A flag wins over the",
        "variable, the variable over the default. Durations are seconds or `30s`, `5m`,",
        "`1h30m`, `1d`, `1w`: see [durations.md](durations.md).",
        "",
        "| flag | environment variable | default | meaning |",
        "|---|---|---|---|",
    ]
    for s in SETTINGS:
        default = "" if s.default == "" else f"`{s.default}`"
        lines.append(f"| `{s.flag}` | `{s.env_var}` | {default} | {s.help} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
