"""Alert labels and their fingerprint.

The fingerprint is the one Prometheus and Alertmanager compute for a label set (FNV-1a 64
over the sorted names and values, each followed by the byte 0xff, printed as 16 hex digits),
so an alert pushed to an Alertmanager keeps the identity mlvitals shows for it.

>>> fingerprint({})
'cbf29ce484222325'
>>> fingerprint({"b": "2", "a": "1"}) == fingerprint({"a": "1", "b": "2"})
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping

Labels = Mapping[str, str]

LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")

_OFFSET64 = 14695981039346656037
_PRIME64 = 1099511628211
_MASK64 = (1 << 64) - 1
_SEPARATOR = 0xFF


def _fnv1a(h: int, data: bytes) -> int:
    for byte in data:
        h ^= byte
        h = (h * _PRIME64) & _MASK64
    return h


def fingerprint(labels: Labels) -> str:
    """The Prometheus label-set fingerprint, as 16 lowercase hex digits."""
    h = _OFFSET64
    for name in sorted(labels):
        h = _fnv1a(h, name.encode())
        h = _fnv1a(h, bytes([_SEPARATOR]))
        h = _fnv1a(h, labels[name].encode())
        h = _fnv1a(h, bytes([_SEPARATOR]))
    return f"{h:016x}"


def render_labels(labels: Labels) -> str:
    """``{a="1", b="2"}``: the text form used in group keys and logs."""
    inner = ", ".join(f'{k}="{_escape(labels[k])}"' for k in sorted(labels))
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
