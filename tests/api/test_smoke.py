"""The slice end to end: sign in, create, list with contacts, update with version, delete, restore."""

from __future__ import annotations

CREATE = """
mutation($i: CreateCustomerInput!) {
  createCustomer(input: $i) { customer { id code name phone phoneRaw email province city district version } errors { field code message } }
}"""


async def test_create_and_list(gql_as, tenant_a) -> None:
    gql = await gql_as(tenant_a.admin_email)
    data = await gql(
        CREATE,
        {
            "i": {
                "name": " 深圳市华腾科技有限公司 ",
                "kind": "COMPANY",
                "phone": "138 1234 5678",
                "email": "Li@HuaTeng.CN",
                "addressLine": "广东省深圳市南山区科技园南路88号",
            }
        },
    )
    payload = data["createCustomer"]
    assert payload["errors"] == []
    c = payload["customer"]
    assert c["name"] == "深圳市华腾科技有限公司"
    assert c["phone"] == "+8613812345678"
    assert (c["province"], c["city"], c["district"]) == ("广东省", "深圳市", "南山区")
    listed = await gql(
        "{ customers(first: 10) { totalCount edges { node { id name contacts { name } owner { name } } } } }"
    )
    assert listed["customers"]["totalCount"] >= 1
