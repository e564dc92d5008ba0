"""Database URLs as logs, errors and pages show them: with the password hidden.

>>> redact("postgresql://app:s3cret@db.internal:5432/mlvitals")
'postgresql://app:***@db.internal:5432/mlvitals'
>>> redact("postgresql://db/mlvitals?user=app&password=s3cret&sslmode=require")
'postgresql://db/mlvitals?user=app&password=***&sslmode=require'
>>> redact("host=db user=app password='s3 cret' dbname=mlvitals")
'host=db user=app password=*** dbname=mlvitals'
>>> redact("/var/lib/mlvitals/mlvitals.db")
'/var/lib/mlvitals/mlvitals.db'
>>> scrub("auth failed for s3cret", "postgresql://app:s3cret@db/mlvitals")
'auth failed for ***'
"""

from __future__ import annotations

import re

_USERINFO = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/?#@]*?:)(?P<secret>.*)@(?=[^@]*$)")
_QUERY = re.compile(r"(?P<head>[?&]password=)[^&#]*", re.IGNORECASE)
_KEYWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?:'(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``: in the user info of a URL, in a
    ``password=`` query parameter, or in a libpq ``key=value`` connection string."""
    if "://" in url:
        authority_end = len(url)
        for mark in "/?#":
            found = url.find(mark, url.index("://") + 3)
            if found != -1:
                authority_end = min(authority_end, found)
        authority = _USERINFO.sub(r"\g<head>***@", url[:authority_end])
        return authority + _QUERY.sub(r"\g<head>***", url[authority_end:])
    return _KEYWORD.sub(r"\g<head>***", url)


def scrub(text: str, url: str) -> str:
    """``text`` (an error message about ``url``) with ``url``'s password hidden wherever it
    appears, and ``url`` itself redacted."""
    text = text.replace(url, redact(url))
    for pattern in (_USERINFO, _QUERY, _KEYWORD):
        for found in pattern.finditer(url):
            secret = found.group(0)[len(found.group("head")) :].rstrip("@").strip("'")
            if len(secret) >= 3:  # hiding "a" everywhere would garble the message
                text = text.replace(secret, "***")
    return text
