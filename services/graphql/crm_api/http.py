"""The GraphQL-over-HTTP specification at the edge of the GraphQL endpoint.

Strawberry serves GraphQL; this layer makes the HTTP around it follow the spec:
- media types: ``application/graphql-response+json`` when the client accepts it, else
  ``application/json``; an Accept header that allows neither is 406;
- with ``application/graphql-response+json``, a request error (unparsable or invalid document,
  bad variables — nothing executed) is a 4xx without ``data``; a response that executed is 200;
- GET is for queries only: a mutation over GET is 405 with ``Allow: POST``;
- transport errors (bad JSON, no query, unsupported body type) are JSON ``{"errors": [...]}``
  with their proper status (400, 415), never plain text.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def choose_media_type(accept: str | None) -> str | None:
    """The response media type for an Accept header, or None when nothing acceptable is left."""
    if not accept or not accept.strip():
        return JSON  # the spec's legacy default for clients that say nothing
    offered = []
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        offered.append((media.strip().lower(), q))
    for media, q in sorted(offered, key=lambda item: -item[1]):
        if q <= 0:
            continue
        if media == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE
        if media in (JSON, "application/*", "*/*"):
            return JSON
    return None


def is_mutation_query(query: str, operation_name: str | None) -> bool:
    try:
        document = parse(query)
    except GraphQLError:
        return False  # a syntax error is reported by GraphQL itself
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            operation_name is None or (definition.name and definition.name.value == operation_name)
        ):
            return definition.operation is not OperationType.QUERY
    return False


def _error_body(message: str, code: str) -> bytes:
    return json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()


class GraphQLOverHTTP:
    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        media = choose_media_type(headers.get("accept"))
        if media is None:
            await _send(
                send,
                406,
                JSON,
                _error_body(
                    f"this endpoint answers {GRAPHQL_RESPONSE} or {JSON}", "NOT_ACCEPTABLE"
                ),
            )
            return
        if scope["method"] == "GET" and "text/html" not in headers.get("accept", ""):
            params = parse_qs(scope.get("query_string", b"").decode())
            query = (params.get("query") or [""])[0]
            if query and is_mutation_query(query, (params.get("operationName") or [None])[0]):
                await _send(
                    send,
                    405,
                    media,
                    _error_body("use POST for mutations", "METHOD_NOT_ALLOWED"),
                    allow="POST",
                )
                return
        await self._app(scope, receive, _Rewriter(send, media))


class _Rewriter:
    """Buffers the inner response (one JSON document) and rewrites status and media type."""

    def __init__(self, send: Send, media: str) -> None:
        self._send = send
        self._media = media
        self._start: Message | None = None
        self._body = bytearray()

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._start = message
            return
        if message["type"] != "http.response.body":
            await self._send(message)
            return
        self._body.extend(message.get("body", b""))
        if message.get("more_body"):
            return
        assert self._start is not None
        headers = {k.decode().lower(): v.decode() for k, v in self._start.get("headers", [])}
        status, body = self._rewrite(
            self._start["status"], headers.get("content-type", ""), bytes(self._body)
        )
        if not headers.get("content-type", "").startswith(("application/json", "text/plain")):
            await self._send(self._start)  # GraphiQL's HTML and anything else pass untouched
            await self._send({"type": "http.response.body", "body": bytes(self._body)})
            return
        extra = {k: v for k, v in headers.items() if k not in ("content-type", "content-length")}
        await _send(self._send, status, self._media, body, **extra)

    def _rewrite(self, status: int, content_type: str, body: bytes) -> tuple[int, bytes]:
        if content_type.startswith("text/plain"):
            message = body.decode(errors="replace").strip() or "bad request"
            code = 415 if "content type" in message.lower() else status
            return code, _error_body(
                message, "BAD_REQUEST" if code == 400 else "UNSUPPORTED_MEDIA_TYPE"
            )
        if self._media != GRAPHQL_RESPONSE or status != 200:
            return status, body
        try:
            document: dict[str, Any] = json.loads(body)
        except ValueError:
            return status, body
        if (
            document.get("data") is None
            and document.get("errors")
            and not any(e.get("path") for e in document["errors"])
        ):
            # Nothing executed: a request error. The spec wants 4xx and no ``data`` entry.
            document.pop("data", None)
            return 400, json.dumps(document).encode()
        return status, body


async def _send(send: Send, status: int, media: str, body: bytes, **headers: str) -> None:
    raw = [
        (b"content-type", f"{media}; charset=utf-8".encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    raw += [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
