"""`search(query)`: customers, contacts and leads in one ranked list (crm_core.search)."""

from __future__ import annotations

import asyncio
import enum
from typing import Annotated

import strawberry

from crm_api.context import Info
from crm_api.errors import as_graphql_errors
from crm_api.node import RESOLVERS
from crm_api.relay import Node
from crm_core.search import engine
from crm_core.search.sources import SOURCES


@strawberry.enum(description="What global search looks in.")
class SearchKind(enum.Enum):
    CUSTOMER = "customer"
    CONTACT = "contact"
    LEAD = "lead"


TYPE_NAMES = {"customer": "Customer", "contact": "Contact", "lead": "Lead"}


@strawberry.type(description="One search result: the record and how well it matched.")
class SearchHit:
    kind: SearchKind
    score: float = strawberry.field(
        description="Higher is better: exact name, name prefix, every word, trigram closeness."
    )
    node: Node


@strawberry.type
class SearchQueries:
    @strawberry.field(
        description="Customers, contacts and leads by name, company, phone (any format), "
        "e-mail or pinyin, typos forgiven; best first. Only kinds your role may read, only "
        "records in your data scope."
    )
    async def search(
        self,
        info: Info,
        query: str,
        kinds: Annotated[
            list[SearchKind] | None,
            strawberry.argument(description="All kinds your role may read when left out."),
        ] = None,
        first: int = 10,
    ) -> list[SearchHit]:
        async def load() -> list[SearchHit]:
            ctx = info.context
            principal = ctx.require_principal()
            wanted = {k.value for k in kinds} if kinds else set(TYPE_NAMES)
            sources = [
                SOURCES[k]
                for k in sorted(wanted)
                if k in SOURCES and principal.allows(RESOLVERS[TYPE_NAMES[k]][0] or "")
            ]
            async with ctx.tenant_db.read() as session:
                hits = await engine.search(
                    session,
                    sources,
                    query,
                    scope=principal.data_scope,
                    personal_data=principal.sees_personal_data,
                    limit=first,
                )
            # Through the node loaders: batched per kind, scope and masking as `node(id)`.
            nodes = await asyncio.gather(
                *(RESOLVERS[TYPE_NAMES[h.kind]][1](info, h.id) for h in hits)
            )
            return [
                SearchHit(kind=SearchKind(h.kind), score=h.score, node=n)
                for h, n in zip(hits, nodes, strict=True)
                if n is not None
            ]

        return await as_graphql_errors(load)
