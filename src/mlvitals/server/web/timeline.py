"""The change timeline of a page: each area's changes over a range, merged.

``what_changed(store, start, end)`` answers "what changed, anywhere" (an alert's detail:
the hour before it started); ``service=``, ``pipeline=`` or ``dataset=`` narrow it to one
object's page.
"""

from __future__ import annotations

from typing import Any

from mlvitals.server.pipelines.queries import run_changes
from mlvitals.server.quality.queries import check_changes
from mlvitals.server.serving.queries import serving_changes
from mlvitals.server.web.changes import merge
from mlvitals.store import Store

BEFORE_ALERT = 3600.0
"""An alert's detail shows what changed in the hour before it started."""


def what_changed(
    store: Store,
    start: float,
    end: float,
    *,
    service: str | None = None,
    pipeline: str | None = None,
    dataset: str | None = None,
) -> list[dict[str, Any]]:
    """Changes in ``[start, end)``, newest first: everything, or those of one object."""
    if service is not None:
        return merge(
            [
                serving_changes(store, service, start, end),
                run_changes(store, start, end, service=service),
            ]
        )
    if pipeline is not None:
        return merge([run_changes(store, start, end, pipeline=pipeline)])
    if dataset is not None:
        return merge([check_changes(store, start, end, dataset)])
    return merge(
        [
            serving_changes(store, None, start, end),
            run_changes(store, start, end),
            check_changes(store, start, end),
        ]
    )
