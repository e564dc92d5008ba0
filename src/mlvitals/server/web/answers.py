"""What the JSON routes answer, for the OpenAPI document: the error reply, the ``responses=``
entries naming when it comes, and the base of every response model.

Response models forbid keys they do not declare, so a key added to an answer without its
model fails the OpenAPI test instead of being dropped from the reply.

>>> sorted(errors(404))
[401, 403, 404, 503]
>>> ErrorAnswer(error="no run with id 'x'").model_dump()
{'error': "no run with id 'x'"}
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, TypeAdapter

#: A JSON number: integers stay integers in the reply (``float`` would turn ``3`` into ``3.0``).
Number = int | float

_WHY: dict[int, str] = {
    400: "a parameter or the body is malformed",
    401: "tokens are configured and the request carries none, or an unknown one",
    403: "the token lacks the scope this endpoint needs",
    404: "the named resource does not exist",
    409: "the resource is defined in a file and cannot be changed here",
    413: "the body is larger than --max-body-bytes (on the wire or after gunzip)",
    415: "the body's media type cannot be read (or its decoder is not installed)",
    500: "a configuration file of the server is invalid",
    503: "the store is unavailable",
}


class Answer(BaseModel):
    """A JSON object of a reply, every key declared."""

    model_config = ConfigDict(extra="forbid")


class ErrorAnswer(Answer):
    """Every error the server raises: ``{"error": "what was wrong"}``."""

    error: str


def errors(*statuses: int, auth: bool = True, store: bool = True) -> dict[int | str, Any]:
    """``responses=`` for a route: the given statuses, plus 401/403 (``auth``) and 503
    (``store``), each answered as :class:`ErrorAnswer`."""
    codes = set(statuses) | ({401, 403} if auth else set()) | ({503} if store else set())
    return {c: {"model": ErrorAnswer, "description": _WHY[c]} for c in sorted(codes)}


_ANY: TypeAdapter[Any] = TypeAdapter(Any)


def json_answer(body: Any, status_code: int = 200) -> Response:
    """``body`` serialised as FastAPI serialises a route's return value, without validating
    it against the route's response model: for hot routes whose model documents the answer."""
    return Response(_ANY.dump_json(body), status_code=status_code, media_type="application/json")
