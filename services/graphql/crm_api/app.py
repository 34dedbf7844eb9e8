"""The gateway: ``create_app()`` builds everything in the lifespan; nothing happens at import."""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.trace import SpanProcessor
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from crm_api.auth import AuthFailure, authenticate
from crm_api.context import AppState, Context
from crm_api.http import GraphQLOverHTTP
from crm_api.identity.invite_page import InvitePages
from crm_api.mail.pages import PageKit
from crm_api.mail.unsubscribe_page import UnsubscribePages
from crm_api.metrics import MetricsExtension, MetricsHolder
from crm_api.oauth import token_route
from crm_api.schema import build_schema
from crm_api.sso import SsoEndpoints
from crm_api.surveys.public import SurveyPages
from crm_api.transfer.files import file_routes
from crm_core.db.engine import Database
from crm_core.health import ReadinessChecker, health_routes
from crm_core.identity import scopes
from crm_core.identity.keys import KeyStore
from crm_core.identity.throttle import Throttle
from crm_core.identity.tokens import TokenService
from crm_core.messaging.broker import BrokerDispatcher, build_broker
from crm_core.messaging.outbox import Dispatcher
from crm_core.metrics import GraphQLInstruments
from crm_core.security.crypto import load_master_key
from crm_core.security.tenant_keys import TenantKeys
from crm_core.settings import Settings, TraceExporter, load_settings
from crm_core.telemetry import setup_telemetry
from crm_core.tenancy import bind_log_tenant


class GraphQLApp(GraphQL[Context, None]):
    def __init__(self, state_ref: dict[str, AppState], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._state_ref = state_ref

    async def get_context(self, request: Any, response: Any) -> Context:
        app = self._state_ref["app"]
        principal = request.scope.get("crm.principal")
        if principal is not None:
            # Whose records this principal sees, resolved once for the whole request.
            principal = await scopes.resolve(app.db, principal)
        return Context(app=app, request=request, principal=principal)


class AuthGate:
    """Authenticates before GraphQL runs: a bad token is a 401, a suspended tenant a 403."""

    def __init__(self, inner: GraphQLApp, state_ref: dict[str, AppState]) -> None:
        self._inner = inner
        self._state_ref = state_ref

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._inner(scope, receive, send)
            return
        request = Request(scope)
        outcome = await authenticate(self._state_ref["app"], request.headers.get("authorization"))
        if isinstance(outcome, AuthFailure):
            body = {"errors": [{"message": outcome.message, "extensions": {"code": outcome.code}}]}
            headers = {"WWW-Authenticate": "Bearer"} if outcome.status == 401 else {}
            response = JSONResponse(body, status_code=outcome.status, headers=headers)
            await response(scope, receive, send)
            return
        scope["crm.principal"] = outcome
        bind_log_tenant(outcome.tenant if outcome else None)
        await self._inner(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    dispatcher: Dispatcher | None = None,
    span_processors: list[SpanProcessor] | None = None,
    metric_readers: list[MetricReader] | None = None,
) -> Starlette:
    """``database``/``dispatcher``/``span_processors``/``metric_readers`` let tests share a pool,
    a broker namespace and in-memory exporters; in production all of them come from settings."""
    settings = settings or load_settings()
    state_ref: dict[str, AppState] = {}
    graphiql = (
        settings.graphql.graphiql
        if settings.graphql.graphiql is not None
        else not settings.is_production
    )
    tracing = settings.telemetry.exporter is not TraceExporter.none or bool(span_processors)
    schema = build_schema(settings, tracing=tracing)
    metrics_holder = MetricsHolder()
    # A factory, so each request gets its own extension instance (pitfalls.md).
    schema.extensions = (
        *schema.extensions,
        functools.partial(MetricsExtension, holder=metrics_holder),
    )
    graphql_app = GraphQLApp(
        state_ref,
        schema=schema,
        graphql_ide="graphiql" if graphiql else None,
        allow_queries_via_get=True,
    )
    sso = SsoEndpoints(settings, state_ref)
    # The public survey page (/s/{token}): no login, outside the GraphQL auth gate.
    survey_pages = SurveyPages(settings, state_ref)
    # The pages mail links open (/invite/{token}, /u/{token}): no login either.
    page_kit = PageKit(settings)
    mail_pages = (InvitePages(page_kit, state_ref), UnsubscribePages(page_kit, state_ref))
    probes: dict[str, ReadinessChecker] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        telemetry = setup_telemetry(
            settings,
            service_name="crm-gateway",
            processors=span_processors,
            metric_readers=metric_readers,
        )
        if telemetry.meter_provider is not None:
            metrics_holder.instruments = GraphQLInstruments.create(telemetry.meter("crm.graphql"))
        db = database or Database.create(settings)
        telemetry.instrument_engine(db.engine)
        broker = None
        disp = dispatcher
        if disp is None:
            broker = build_broker(settings)
            disp = BrokerDispatcher(broker)
        master = load_master_key(settings)
        # Signing keys live in the database, shared by every gateway process; the first start
        # creates one.
        signing_keys = KeyStore(db, master, settings.auth)
        await signing_keys.refresh()
        redis = Redis.from_url(settings.require_redis_url())
        probes["ready"] = ReadinessChecker(db.engine, redis)
        state_ref["app"] = AppState(
            settings=settings,
            db=db,
            tokens=TokenService(settings.auth, signing_keys),
            dispatcher=disp,
            keys=TenantKeys(master),
            throttle=Throttle(redis, settings.auth, namespace=settings.worker.namespace),
        )
        try:
            yield
        finally:
            await sso.aclose()
            await survey_pages.aclose()
            await page_kit.aclose()
            await redis.aclose()
            if broker is not None:
                broker.close()
            if database is None:
                await db.dispose()
            telemetry.shutdown()

    def liveness() -> dict[str, Any]:
        # The process answers: that is all liveness means. PostgreSQL or Redis being down is a
        # readiness matter (/readyz), or every gateway would be restarted at once.
        return {"status": "ok", "role": "gateway"}

    async def jwks(request: Request) -> Response:
        # Keys that may still verify: the signing key and retired ones within their window.
        # Short caching: a verifier that meets an unknown kid should re-fetch anyway.
        body = await state_ref["app"].tokens.jwks()
        return Response(
            json.dumps(body),
            media_type="application/json",
            headers={"Cache-Control": "public, max-age=60"},
        )

    return Starlette(
        routes=[
            # /healthz (alive) and /readyz (PostgreSQL, Redis, migrations): crm_core.health.
            *health_routes(lambda: probes["ready"], liveness),
            Route("/.well-known/jwks.json", jwks),
            token_route(state_ref),
            Route(
                "/graphql",
                GraphQLOverHTTP(AuthGate(graphql_app, state_ref)),
                methods=["GET", "POST"],
            ),
            sso.mount(),
            # Uploads to import and files to download (imports, exports): crm_api.transfer.
            *file_routes(state_ref),
            *survey_pages.routes(),
            *(route for pages in mail_pages for route in pages.routes()),
        ],
        lifespan=lifespan,
    )
