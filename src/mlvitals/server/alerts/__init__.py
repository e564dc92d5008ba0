"""Server side of alerts: evaluation loop, persistence, silences, notifications, API, page."""
