"""Sensitive identifiers are encrypted with each tenant's own data key, found by blind index."""

from __future__ import annotations

import pytest
from gqldocs import CREATE, UPDATE
from sqlalchemy import select

from crm_api.relay import from_global_id
from crm_core.audit.models import AuditEntry
from crm_core.customers.models import Customer
from crm_core.security.crypto import DecryptionError, load_master_key
from crm_core.security.tenant_keys import TenantKeys

TAX_ID = "91440300MA5EXAMPLE"
FIELDS = "id taxId bankAccount"


async def _create(gql, **fields):
    doc = CREATE.replace("reviewFlags { field code }", f"reviewFlags {{ field code }} {FIELDS}")
    result = (await gql(doc, {"i": {"kind": "COMPANY", **fields}}))["createCustomer"]
    assert result["errors"] == [], result
    return result["customer"]


async def test_encrypted_at_rest_readable_through_the_api(db, gql_as, tenant_a) -> None:
    gql = await gql_as(tenant_a.admin_email)
    c = await _create(gql, name="Secretive Ltd", taxId=TAX_ID, bankAccount="6222 0000 1111 2222")
    assert c["taxId"] == TAX_ID
    assert c["bankAccount"] == "6222000011112222"
    pk = from_global_id(c["id"])[1]
    async with db.tenant(tenant_a.ref).read() as session:
        row = (await session.execute(select(Customer).where(Customer.id == pk))).scalar_one()
        audit_rows = (
            (await session.execute(select(AuditEntry.changes).where(AuditEntry.entity_id == pk)))
            .scalars()
            .all()
        )
    assert TAX_ID.encode() not in row.tax_id_encrypted
    assert b"6222000011112222" not in row.bank_account_encrypted
    assert TAX_ID not in str(audit_rows) and "6222000011112222" not in str(audit_rows)

    viewer = await gql_as(tenant_a.viewer_email)
    seen = (
        await viewer(f"query($id: ID!) {{ customer(id: $id) {{ {FIELDS} }} }}", {"id": c["id"]})
    )["customer"]
    assert seen["taxId"] == "****MPLE"
    assert seen["bankAccount"] == "****2222"
    body = (
        await viewer.post(f'{{ customers(first: 5, taxId: "{TAX_ID}") {{ totalCount }} }}')
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_exact_search_by_blind_index_per_tenant(gql_as, tenant_a, tenant_b) -> None:
    a = await gql_as(tenant_a.admin_email)
    b = await gql_as(tenant_b.admin_email)
    mine = await _create(a, name="Indexed A", taxId="913100001234567890")
    await _create(b, name="Indexed B", taxId="913100001234567890")
    query = '{ customers(first: 5, taxId: "913100001234567890 ") { edges { node { id name } } } }'
    found = (await a(query))["customers"]["edges"]
    assert [e["node"]["id"] for e in found] == [mine["id"]]
    lower = (await a('{ customers(first: 5, taxId: "913100001234567890") { totalCount } }'))[
        "customers"
    ]
    assert lower["totalCount"] == 1
    cleared = (await a(UPDATE, {"id": mine["id"], "i": {"taxId": None}}))["updateCustomer"]
    assert cleared["errors"] == []
    assert (await a(query))["customers"]["edges"] == []


async def test_tenant_keys_differ_and_ciphertext_is_bound(db, settings, tenant_a, tenant_b) -> None:
    keys = TenantKeys(load_master_key(settings))
    ca, cb = await keys.cipher(db, tenant_a.ref.id), await keys.cipher(db, tenant_b.ref.id)
    assert ca.blind_index(TAX_ID, field="tax_id") != cb.blind_index(TAX_ID, field="tax_id")
    sealed = ca.encrypt(TAX_ID, field="tax_id")
    with pytest.raises(DecryptionError):
        cb.decrypt(sealed, field="tax_id")
    with pytest.raises(DecryptionError):
        ca.decrypt(sealed, field="bank_account")
    assert ca.decrypt(sealed, field="tax_id") == TAX_ID
    # A second process (a fresh key store) unwraps the same key.
    again = await TenantKeys(load_master_key(settings)).cipher(db, tenant_a.ref.id)
    assert again.decrypt(sealed, field="tax_id") == TAX_ID
