"""Notification integrations: webhook, Slack, Alertmanager push and e-mail (the I/O edge).

>>> from mlvitals.alerts.notifiers import Dispatcher, Retry
>>> Retry().attempts
3
"""

from mlvitals.alerts.notifiers.base import Delivery, Retry
from mlvitals.alerts.notifiers.dispatch import Dispatcher

__all__ = ["Delivery", "Dispatcher", "Retry"]
