"""A cost limit: depth, alias and token limits all pass ``a(first:100){b(first:100){c(first:100)}}``,
which asks for a million objects. The cost of a field is the product of the page sizes of the lists
above it; the operation's cost is the sum over its fields. Checked before anything runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from strawberry.extensions import SchemaExtension

UNBOUNDED_LIST = 10  # a plain list field (e.g. a customer's contacts) counts as this many


class CostLimiter(SchemaExtension):
    def __init__(self, *, max_cost: int, default_page: int, max_page: int) -> None:
        self.max_cost = max_cost
        self.default_page = default_page
        self.max_page = max_page

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is not None:
            fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            schema = ctx.schema._schema
            for op in document.definitions:
                if not isinstance(op, OperationDefinitionNode):
                    continue
                if ctx.operation_name and op.name and op.name.value != ctx.operation_name:
                    continue
                root = schema.get_root_type(op.operation)
                cost = self._cost(op.selection_set, root, 1, fragments, ctx.variables or {})
                if cost > self.max_cost:
                    raise GraphQLError(
                        f"query too expensive: cost {cost} exceeds {self.max_cost}; ask for smaller pages",
                        extensions={
                            "code": "BAD_USER_INPUT",
                            "cost": cost,
                            "maxCost": self.max_cost,
                        },
                    )
        yield

    def _size(self, node: FieldNode, field_type: Any, variables: dict[str, Any]) -> int:
        for arg in node.arguments or ():
            if arg.name.value in ("first", "last"):
                value = arg.value
                if isinstance(value, IntValueNode):
                    return max(int(value.value), 1)
                if isinstance(value, VariableNode):
                    raw = variables.get(value.name.value)
                    return max(int(raw), 1) if isinstance(raw, int) else self.default_page
        named = get_named_type(field_type)
        if named.name.endswith("Connection"):
            return self.default_page
        inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
        return UNBOUNDED_LIST if isinstance(inner, GraphQLList) else 1

    def _cost(
        self,
        selection_set: SelectionSetNode | None,
        parent: Any,
        multiplier: int,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        seen: frozenset[str] = frozenset(),
    ) -> int:
        if selection_set is None or parent is None:
            return 0
        total = 0
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                fields = getattr(parent, "fields", {})
                field = fields.get(sel.name.value)
                if field is None:
                    continue
                # A connection's page size is counted on the connection; its edges list adds nothing.
                edges = sel.name.value == "edges" and getattr(parent, "name", "").endswith(
                    "Connection"
                )
                scale = multiplier * (1 if edges else self._size(sel, field.type, variables))
                total += scale
                child = get_named_type(field.type)
                total += self._cost(sel.selection_set, child, scale, fragments, variables, seen)
            elif isinstance(sel, InlineFragmentNode):
                target = parent
                if sel.type_condition is not None:
                    target = self.execution_context.schema._schema.get_type(
                        sel.type_condition.name.value
                    )
                total += self._cost(
                    sel.selection_set, target, multiplier, fragments, variables, seen
                )
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value not in seen:
                frag = fragments.get(sel.name.value)
                if frag is not None:
                    target = self.execution_context.schema._schema.get_type(
                        frag.type_condition.name.value
                    )
                    total += self._cost(
                        frag.selection_set,
                        target,
                        multiplier,
                        fragments,
                        variables,
                        seen | {sel.name.value},
                    )
        return total
