"""GraphQL documents and small helpers shared by the API tests."""

from __future__ import annotations

from typing import Any

CUSTOMER_FIELDS = "id code name kind phone phoneRaw email province city district version deletedAt reviewFlags { field code }"
CREATE = f"""
mutation($i: CreateCustomerInput!) {{
  createCustomer(input: $i) {{ customer {{ {CUSTOMER_FIELDS} }} errors {{ field code message }} }}
}}"""
UPDATE = f"""
mutation($id: ID!, $i: UpdateCustomerInput!, $v: Int) {{
  updateCustomer(id: $id, input: $i, version: $v) {{ customer {{ {CUSTOMER_FIELDS} }} errors {{ field code message }} }}
}}"""
DELETE = "mutation($id: ID!, $v: Int) { deleteCustomer(id: $id, version: $v) { customer { id deletedAt } errors { field code message } } }"
RESTORE = "mutation($id: ID!) { restoreCustomer(id: $id) { customer { id deletedAt } errors { field code message } } }"
DESTROY = (
    "mutation($id: ID!) { destroyCustomer(id: $id) { destroyedId errors { field code message } } }"
)
CREATE_CONTACT = """
mutation($c: ID!, $i: CreateContactInput!) {
  createContact(customerId: $c, input: $i) { contact { id name isPrimary phones { number raw } emails { address } customer { id } } errors { field code message } }
}"""
GET = f"query($id: ID!) {{ customer(id: $id) {{ {CUSTOMER_FIELDS} }} }}"
NODE = "query($id: ID!) { node(id: $id) { id __typename ... on Customer { name } ... on Contact { name } } }"
PAGE = """
query($first: Int, $after: String, $last: Int, $before: String, $filter: CustomerFilter, $order: [CustomerOrderBy!], $search: String) {
  customers(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $order, search: $search) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id code name city grade } }
  }
}"""


async def create_customer(gql: Any, **fields: Any) -> dict[str, Any]:
    data = {"kind": "COMPANY", **fields}
    result = (await gql(CREATE, {"i": data}))["createCustomer"]
    assert result["errors"] == [], result
    return result["customer"]  # type: ignore[no-any-return]
