"""Evaluation mutations: thin — parse input, call the service, map the result."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from crm_api.bulk import create_many_under_customer_field, update_many_field
from crm_api.context import Info
from crm_api.errors import UserError
from crm_api.evaluations import inputs as I
from crm_api.evaluations.queries import LIST, base
from crm_api.evaluations.types import EvaluationCriterion, RelationshipEvaluation
from crm_api.inputs import input_data
from crm_api.mutation import bounded, run
from crm_api.permissions import requires
from crm_api.relay import from_global_id
from crm_api.verbs import lifecycle_fields
from crm_core.evaluations import service
from crm_core.evaluations.models import EvaluationCriterion as CriterionRow
from crm_core.evaluations.models import RelationshipEvaluation as Row
from crm_core.identity.principal import Principal

MAX_BATCH = 100


@strawberry.type
class EvaluationCriterionPayload:
    evaluation_criterion: EvaluationCriterion | None
    errors: list[UserError]


@strawberry.type
class EvaluationCriteriaPayload:
    evaluation_criteria: list[EvaluationCriterion]
    errors: list[UserError]


@strawberry.type
class RelationshipEvaluationPayload:
    relationship_evaluation: RelationshipEvaluation | None
    errors: list[UserError]


@strawberry.type
class DestroyEvaluationPayload:
    destroyed_id: strawberry.ID | None
    errors: list[UserError]


def _pk(id: strawberry.ID, expect: str, field: str = "id") -> uuid.UUID:
    return from_global_id(id, field=field, expect=expect)[1]


def _evaluation_data(input: Any, prefix: str = "") -> dict[str, Any]:
    """Input → service data; each score's criterion id is named by its place in the list."""
    scores = input.scores
    data = input_data(input, id_fields=I.ID_FIELDS)
    if isinstance(scores, list):
        data["scores"] = [
            {
                **input_data(s),
                "criterion_id": _pk(
                    s.criterion_id, "EvaluationCriterion", f"{prefix}scores.{i}.criterion_id"
                ),
            }
            for i, s in enumerate(scores)
        ]
    return data


def _score_keys(data: dict[str, Any]) -> dict[str, Any]:
    """Plain input data (as a bulk update gets it) with each score's criterion id turned into a
    key; new score dicts, as every record gets the same input."""
    if isinstance(data.get("scores"), list):
        data = {
            **data,
            "scores": [
                {
                    **s,
                    "criterion_id": _pk(
                        s["criterion_id"], "EvaluationCriterion", f"scores.{i}.criterion_id"
                    ),
                }
                for i, s in enumerate(data["scores"])
            ],
        }
    return data


def _criterion(result: tuple[CriterionRow | None, list[UserError]]) -> EvaluationCriterionPayload:
    row, errors = result
    return EvaluationCriterionPayload(
        evaluation_criterion=EvaluationCriterion.from_model(row) if row is not None else None,
        errors=errors,
    )


def _evaluation(result: tuple[Row | None, list[UserError]]) -> RelationshipEvaluationPayload:
    row, errors = result
    return RelationshipEvaluationPayload(
        relationship_evaluation=RelationshipEvaluation.from_model(row) if row is not None else None,
        errors=errors,
    )


@strawberry.type
class EvaluationMutations:
    # Criteria are company configuration: written with settings:manage (owner, admin).
    @strawberry.mutation(extensions=requires("settings:manage"))
    async def create_evaluation_criterion(
        self, info: Info, input: I.CreateEvaluationCriterionInput
    ) -> EvaluationCriterionPayload:
        async def work(session: AsyncSession, who: Principal) -> CriterionRow:
            return await service.create_criterion(session, who, input_data(input))

        return _criterion(await run(info, work))

    @strawberry.mutation(
        description=f"All or nothing; at most {MAX_BATCH}.",
        extensions=requires("settings:manage"),
    )
    async def create_evaluation_criteria(
        self, info: Info, inputs: list[I.CreateEvaluationCriterionInput]
    ) -> EvaluationCriteriaPayload:
        async def work(session: AsyncSession, who: Principal) -> list[CriterionRow]:
            bounded(inputs, MAX_BATCH, "inputs")
            return await service.create_criteria(session, who, [input_data(i) for i in inputs])

        rows, errors = await run(info, work, prefix="inputs")
        return EvaluationCriteriaPayload(
            evaluation_criteria=[EvaluationCriterion.from_model(r) for r in rows or []],
            errors=errors,
        )

    @strawberry.mutation(extensions=requires("settings:manage"))
    async def update_evaluation_criterion(
        self,
        info: Info,
        id: strawberry.ID,
        input: I.UpdateEvaluationCriterionInput,
        version: int | None = None,
    ) -> EvaluationCriterionPayload:
        async def work(session: AsyncSession, who: Principal) -> CriterionRow:
            pk = _pk(id, "EvaluationCriterion")
            return await service.update_criterion(
                session, who, pk, input_data(input), expected_version=version
            )

        return _criterion(await run(info, work))

    delete_evaluation_criterion, restore_evaluation_criterion, destroy_evaluation_criterion = (
        lifecycle_fields(
            type_name="EvaluationCriterion",
            payload=EvaluationCriterionPayload,
            destroy_payload=DestroyEvaluationPayload,
            convert=lambda info, row: EvaluationCriterion.from_model(row),
            soft_delete=service.soft_delete_criterion,
            restore=service.restore_criterion,
            destroy=service.destroy_criterion,
            permission="settings:manage",
            same_permission=True,
            delete_description="Soft delete: restorable; past scores keep naming it.",
            destroy_description="Permanent delete; refused once an evaluation scored it.",
        )
    )

    @strawberry.mutation(extensions=requires("evaluation:create"))
    async def create_relationship_evaluation(
        self, info: Info, customer_id: strawberry.ID, input: I.CreateRelationshipEvaluationInput
    ) -> RelationshipEvaluationPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            customer_pk = _pk(customer_id, "Customer", "customer_id")
            return await service.create(session, who, customer_pk, _evaluation_data(input))

        return _evaluation(await run(info, work))

    create_relationship_evaluations = create_many_under_customer_field(
        type_name="RelationshipEvaluation",
        plural="relationshipEvaluations",
        create_input=I.CreateRelationshipEvaluationInput,
        gql_type=RelationshipEvaluation,
        create_one=lambda info, session, who, customer_pk, data: service.create(
            session, who, customer_pk, data
        ),
        convert=lambda info, row: RelationshipEvaluation.from_model(row),
        data_of=_evaluation_data,
        permission="evaluation:create",
    )

    @strawberry.mutation(extensions=requires("evaluation:update"))
    async def update_relationship_evaluation(
        self,
        info: Info,
        id: strawberry.ID,
        input: I.UpdateRelationshipEvaluationInput,
        version: int | None = None,
    ) -> RelationshipEvaluationPayload:
        async def work(session: AsyncSession, who: Principal) -> Row:
            pk = _pk(id, "RelationshipEvaluation")
            return await service.update(
                session, who, pk, _evaluation_data(input), expected_version=version
            )

        return _evaluation(await run(info, work))

    update_relationship_evaluations = update_many_field(
        type_name="RelationshipEvaluation",
        plural="relationshipEvaluations",
        lists=LIST,
        filter_input=I.RelationshipEvaluationFilter,
        update_input=I.UpdateRelationshipEvaluationInput,
        gql_type=RelationshipEvaluation,
        make_base=base,
        update_one=lambda info, session, who, pk, data: service.update(
            session, who, pk, _score_keys(data), expected_version=None
        ),
        convert=lambda info, row: RelationshipEvaluation.from_model(row),
        id_fields=I.ID_FIELDS,
        permission="evaluation:update",
    )

    (
        delete_relationship_evaluation,
        restore_relationship_evaluation,
        destroy_relationship_evaluation,
    ) = lifecycle_fields(
        type_name="RelationshipEvaluation",
        payload=RelationshipEvaluationPayload,
        destroy_payload=DestroyEvaluationPayload,
        convert=lambda info, row: RelationshipEvaluation.from_model(row),
        soft_delete=service.soft_delete,
        restore=service.restore,
        destroy=service.destroy,
        permission="evaluation",
        destroy_description="Permanent delete, with its scores.",
    )
