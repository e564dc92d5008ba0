"""The serving SDK: time model calls, aggregate them at the edge, ship and expose them.

>>> from mlvitals.sdk import Monitor
>>> monitor = Monitor("fraud-model", background=False)
>>> @monitor.track
... def predict(x):
...     return x
>>> predict(1)
1
>>> monitor.close()
True

See ``docs/sdk.md``.
"""

from mlvitals.http import Reply
from mlvitals.sdk.asgi import AsgiMiddleware
from mlvitals.sdk.gpu import GpuReading, GpuSampler
from mlvitals.sdk.monitor import Monitor
from mlvitals.sdk.recorder import OTHER
from mlvitals.sdk.track import Span, error_type
from mlvitals.sdk.transport import HttpTransport, Transport
from mlvitals.sdk.wsgi import WsgiMiddleware

__all__ = [
    "OTHER",
    "AsgiMiddleware",
    "GpuReading",
    "GpuSampler",
    "HttpTransport",
    "Monitor",
    "Reply",
    "Span",
    "Transport",
    "WsgiMiddleware",
    "error_type",
]
