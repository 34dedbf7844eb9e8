"""``POST /files`` (upload a table to import) and ``GET /files/{id}`` (download an upload, an
import's error report or an export), both signed in with the same bearer token as GraphQL.

The upload is the raw request body (``Content-Type`` as the client knows it, the name in
``?name=``), streamed to disk and refused past ``CRM_TRANSFER__MAX_UPLOAD_BYTES`` (413). A file
belongs to its tenant: another company's id answers 404, exactly like a missing one.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from crm_api.auth import AuthFailure, authenticate
from crm_api.context import AppState
from crm_core.errors import DomainError, ErrorCode
from crm_core.files import service as files
from crm_core.identity import scopes
from crm_core.identity.principal import Principal
from crm_core.messaging.outbox import unit_of_work


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status)


async def _principal(state: AppState, request: Request) -> Principal | Response:
    outcome = await authenticate(state, request.headers.get("authorization"))
    if outcome is None:
        return _error(401, "UNAUTHENTICATED", "sign-in required")
    if isinstance(outcome, AuthFailure):
        return _error(outcome.status, outcome.code, outcome.message)
    return await scopes.resolve(state.db, outcome)


def file_routes(state_ref: dict[str, AppState]) -> list[Route]:
    async def upload(request: Request) -> Response:
        state = state_ref["app"]
        who = await _principal(state, request)
        if isinstance(who, Response):
            return who
        limit = state.settings.transfer.max_upload_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return _error(413, "LIMIT_EXCEEDED", f"files are limited to {limit} bytes")
        try:
            async with unit_of_work(state.db.tenant(who.tenant), state.dispatcher) as session:
                row = await files.save_upload(
                    session,
                    who,
                    state.settings,
                    request.stream(),
                    filename=request.query_params.get("name"),
                    content_type=request.headers.get("content-type"),
                )
        except files.TooLarge as exc:
            return _error(413, "LIMIT_EXCEEDED", exc.errors[0].message)
        except DomainError as exc:
            return _error(400, "BAD_USER_INPUT", str(exc))
        body: dict[str, Any] = {
            "id": str(row.id),
            "filename": row.filename,
            "sizeBytes": row.size_bytes,
            "sha256": row.sha256,
            "url": f"/files/{row.id}",
        }
        return JSONResponse(body, status_code=201)

    async def download(request: Request) -> Response:
        state = state_ref["app"]
        who = await _principal(state, request)
        if isinstance(who, Response):
            return who
        try:
            file_id = uuid.UUID(request.path_params["file_id"])
            async with state.db.tenant(who.tenant).read() as session:
                row = await files.get(session, who, file_id)
            if not files.path_of(state.settings, who.tenant, row.id).exists():
                raise DomainError.one("file_id", ErrorCode.NOT_FOUND, "file not found")
        except (ValueError, DomainError):
            return _error(404, "NOT_FOUND", "file not found")
        name = quote(row.filename)
        return StreamingResponse(
            files.iter_bytes(state.settings, who.tenant, row),
            media_type=row.content_type,
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
                "Content-Length": str(row.size_bytes),
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    return [
        Route("/files", upload, methods=["POST"]),
        Route("/files/{file_id}", download, methods=["GET"]),
    ]
