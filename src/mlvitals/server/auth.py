"""Bearer-token authentication with scopes ``ingest``, ``read`` and ``admin``.

With no token configured every endpoint is open (and the CLI refuses a non-loopback bind
unless ``--insecure``). With tokens, every endpoint but ``/healthz`` needs a token whose
scopes include the endpoint's; ``admin`` implies all scopes. Tokens are compared in
constant time against every configured token, so timing reveals nothing about which
prefix matched.

>>> table = parse_tokens("s3cret:ingest,read;root:admin")
>>> sorted(table.scopes_for("root"))
['admin', 'ingest', 'read']
>>> table.scopes_for("nope")
frozenset()
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from pathlib import Path

import yaml

from mlvitals.errors import ConfigError

SCOPES = frozenset({"ingest", "read", "admin"})
COOKIE = "mlvitals_token"


@dataclass(frozen=True, slots=True)
class TokenTable:
    entries: tuple[tuple[bytes, frozenset[str]], ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.entries)

    def scopes_for(self, token: str) -> frozenset[str]:
        given = token.encode()
        found: frozenset[str] = frozenset()
        for secret, scopes in self.entries:
            # Check every entry: no early exit, so timing does not depend on the match.
            if hmac.compare_digest(given, secret):
                found = scopes
        if "admin" in found:
            return SCOPES
        return found

    def merged(self, other: TokenTable) -> TokenTable:
        return TokenTable(self.entries + other.entries)


def _entry(token: str, scopes: list[str], where: str) -> tuple[bytes, frozenset[str]]:
    token = token.strip()
    if len(token) < 8:
        raise ConfigError(f"{where}: a token must be at least 8 characters")
    bad = sorted(set(scopes) - SCOPES)
    if bad or not scopes:
        raise ConfigError(
            f"{where}: scopes must be a non-empty subset of admin, ingest, read; got {scopes}"
        )
    return token.encode(), frozenset(scopes)


def parse_tokens(spec: str) -> TokenTable:
    """Parse ``TOKEN:SCOPE[,SCOPE];...`` (the ``--tokens`` setting)."""
    entries = []
    for i, item in enumerate(p for p in spec.split(";") if p.strip()):
        if ":" not in item:
            raise ConfigError(f"--tokens entry {i + 1}: expected TOKEN:SCOPE[,SCOPE]")
        token, scopes = item.rsplit(":", 1)
        entries.append(
            _entry(token, [s.strip() for s in scopes.split(",") if s.strip()], f"--tokens {i + 1}")
        )
    return TokenTable(tuple(entries))


def load_tokens_file(path: str) -> TokenTable:
    """Read a YAML file ``tokens: [{token: ..., scopes: [ingest, read]}, ...]``."""
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read tokens file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"tokens file {path} is not valid YAML: {exc}") from None
    items = data.get("tokens") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ConfigError(f"tokens file {path}: expected a top-level list 'tokens'")
    entries = []
    for i, item in enumerate(items):
        where = f"tokens file {path}, entry {i + 1}"
        if not isinstance(item, dict) or not isinstance(item.get("token"), str):
            raise ConfigError(f"{where}: expected a mapping with 'token' and 'scopes'")
        scopes = item.get("scopes")
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ConfigError(f"{where}: 'scopes' must be a list of names")
        entries.append(_entry(item["token"], scopes, where))
    return TokenTable(tuple(entries))


def token_table(tokens: str, tokens_file: str) -> TokenTable:
    table = parse_tokens(tokens)
    if tokens_file:
        table = table.merged(load_tokens_file(tokens_file))
    return table
