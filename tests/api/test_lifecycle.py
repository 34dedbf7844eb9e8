"""Soft delete, restore and destroy, each written to the tenant's audit log."""

from __future__ import annotations

from gqldocs import CREATE_CONTACT, DELETE, DESTROY, GET, RESTORE, UPDATE, create_customer
from sqlalchemy import select

from crm_api.relay import from_global_id
from crm_core.audit.models import AuditEntry


async def _audit(db, tenant, entity_id):
    async with db.tenant(tenant.ref).read() as session:
        rows = (
            (
                await session.execute(
                    select(AuditEntry)
                    .where(AuditEntry.entity_id == entity_id)
                    .order_by(AuditEntry.at, AuditEntry.id)
                )
            )
            .scalars()
            .all()
        )
    return [(r.action, r.actor_kind, r.changes) for r in rows]


async def test_delete_restore_destroy_with_audit(db, gql_as, tenant_a) -> None:
    gql = await gql_as(tenant_a.admin_email)
    c = await create_customer(gql, name="Lifecycle Ltd", phone="13812340000")
    contact = (await gql(CREATE_CONTACT, {"c": c["id"], "i": {"name": "Short Lived"}}))[
        "createContact"
    ]["contact"]
    updated = (
        await gql(UPDATE, {"id": c["id"], "i": {"name": "Lifecycle Limited"}, "v": c["version"]})
    )["updateCustomer"]
    assert updated["errors"] == []

    deleted = (await gql(DELETE, {"id": c["id"]}))["deleteCustomer"]
    assert deleted["customer"]["deletedAt"] is not None
    assert (await gql(GET, {"id": c["id"]}))["customer"] is None
    listed = await gql(
        '{ customers(first: 5, includeDeleted: true, search: "Lifecycle") { totalCount } }'
    )
    assert listed["customers"]["totalCount"] == 1
    contact_gone = await gql("query($id: ID!) { contact(id: $id) { id } }", {"id": contact["id"]})
    assert contact_gone["contact"] is None, "a deleted customer's contacts are hidden with it"

    restored = (await gql(RESTORE, {"id": c["id"]}))["restoreCustomer"]
    assert restored["errors"] == [] and restored["customer"]["deletedAt"] is None
    assert (await gql("query($id: ID!) { contact(id: $id) { id } }", {"id": contact["id"]}))[
        "contact"
    ]

    destroyed = (await gql(DESTROY, {"id": c["id"]}))["destroyCustomer"]
    assert destroyed == {"destroyedId": c["id"], "errors": []}
    assert (await gql(RESTORE, {"id": c["id"]}))["restoreCustomer"]["errors"][0][
        "code"
    ] == "NOT_FOUND"
    assert (await gql("query($id: ID!) { contact(id: $id) { id } }", {"id": contact["id"]}))[
        "contact"
    ] is None

    pk = from_global_id(c["id"])[1]
    entries = await _audit(db, tenant_a, pk)
    assert [a for a, _, _ in entries] == ["create", "update", "delete", "restore", "destroy"]
    assert all(kind == "user" for _, kind, _ in entries)
    assert entries[1][2] == {"name": ["Lifecycle Ltd", "Lifecycle Limited"]}
    assert entries[-1][2]["before"]["name"] == "Lifecycle Limited"


async def test_viewer_cannot_destroy(gql_as, tenant_a) -> None:
    admin = await gql_as(tenant_a.admin_email)
    c = await create_customer(admin, name="Protected")
    viewer = await gql_as(tenant_a.viewer_email)
    body = (await viewer.post(DESTROY, {"id": c["id"]})).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await admin(GET, {"id": c["id"]}))["customer"]["id"] == c["id"]
