"""One exception tree for mlvitals.

::

    MlvitalsError                 root; every error mlvitals raises on purpose
    ├── ConfigError               a setting, flag, token file or rule file is wrong   (exit 2)
    │   └── DurationError         not a duration like 30s or 1h30m (also a ValueError)
    ├── InputError                data or a file given by the user cannot be used     (exit 2)
    │   └── SchemaError           data does not match the schema it must follow
    ├── MissingExtra              an optional dependency is not installed (also an ImportError)
    ├── StoreError                the database failed or is unreachable               (exit 3)
    │   └── MigrationError        the database schema cannot be brought up to date
    ├── HTTPError                 an API error with an HTTP status
    │   ├── BadRequest            400: malformed body, bad parameter
    │   ├── Unauthorized          401: no or unknown bearer token
    │   ├── Forbidden             403: the token lacks the scope
    │   ├── NotFound              404
    │   └── PayloadTooLarge       413: the body is over the configured limit
    └── RequestError              a call to a server got no answer or an error status (exit 4)

CLI commands turn any ``MlvitalsError`` into one line on stderr and its ``exit_code``;
the server turns an ``HTTPError`` into a JSON reply ``{"error": message}`` with its ``status``.
``RequestError`` is the other side: what a client of a server (``mlvitals.http``) raises after
its retries, with the status it got (``None`` when the server could not be reached).
Messages say what was wrong and, where there is one, what to do about it.
"""

from __future__ import annotations


class MlvitalsError(Exception):
    """Root of every error mlvitals raises on purpose.

    >>> try:
    ...     raise ConfigError("port must be 1-65535, got 0")
    ... except MlvitalsError as e:
    ...     e.exit_code
    2
    """

    exit_code: int = 1


class ConfigError(MlvitalsError):
    """A setting, CLI flag, token file or rule file is invalid."""

    exit_code = 2


class DurationError(ConfigError, ValueError):
    """A value is not a duration (see :mod:`mlvitals.durations`); also a ``ValueError`` so
    that code parsing any kind of value can catch it with the rest."""


class InputError(MlvitalsError):
    """Data or a file given by the user cannot be read or used."""

    exit_code = 2


class SchemaError(InputError):
    """Data does not match the schema it must follow."""


class MissingExtra(MlvitalsError, ImportError):
    """A feature needs an extra that is not installed; the message names the pip command."""

    exit_code = 2


class StoreError(MlvitalsError):
    """The database failed or cannot be reached."""

    exit_code = 3


class MigrationError(StoreError):
    """The database schema cannot be brought up to date."""


class HTTPError(MlvitalsError):
    """An error the HTTP API reports with a status code."""

    status: int = 500

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class BadRequest(HTTPError):
    status = 400


class Unauthorized(HTTPError):
    status = 401


class Forbidden(HTTPError):
    status = 403


class NotFound(HTTPError):
    status = 404


class PayloadTooLarge(HTTPError):
    status = 413


class RequestError(MlvitalsError):
    """A call to a server failed after its retries: no answer, or an error status.

    ``status`` is ``None`` when no answer came (refused, reset, timed out): the network or
    the server is down, not a setting. Not an ``HTTPError``: the server that raised it
    must not pass another server's status on as its own.

    >>> e = RequestError("cannot reach the server at http://127.0.0.1:9: refused", url="")
    >>> e.status is None, e.exit_code
    (True, 4)
    """

    exit_code = 4

    def __init__(
        self, message: str, *, url: str, status: int | None = None, attempts: int = 1
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.attempts = attempts


__all__ = [
    "BadRequest",
    "ConfigError",
    "Forbidden",
    "HTTPError",
    "InputError",
    "MigrationError",
    "MlvitalsError",
    "NotFound",
    "PayloadTooLarge",
    "RequestError",
    "SchemaError",
    "StoreError",
    "Unauthorized",
]
