"""GraphQL for tenant admins: backups, createBackup, restoreBackup, verifyBackup — two tenants."""

from __future__ import annotations

from backuptest import take_backup
from crmtest import make_tenant

from crm_api.relay import to_global_id

LIST = "{ backups { id status trigger rowCount } }"
CREATE = "mutation { createBackup { backup { id status } jobId errors { field code message } } }"
RESTORE = (
    "mutation($id: ID!, $c: String!) { restoreBackup(id: $id, confirm: $c) "
    "{ backup { id } jobId errors { field code message } } }"
)
VERIFY = (
    "mutation($id: ID!) { verifyBackup(id: $id) { ok problems tables rowCount "
    "errors { field code message } } }"
)


async def test_admins_see_and_restore_only_their_own_backups(db, settings, demo, gql_as) -> None:
    other = await make_tenant(db, "bk-gql")
    mine = await take_backup(db, settings, demo.ref)
    mine_id = to_global_id("Backup", mine.id)

    owner = await gql_as("owner@demo-company.cn", demo.ref.slug)
    listed = (await owner(LIST))["backups"]
    assert mine_id in {b["id"] for b in listed}
    verified = (await owner(VERIFY, {"id": mine_id}))["verifyBackup"]
    assert verified["ok"] and verified["tables"] > 10 and verified["errors"] == []

    wrong = (await owner(RESTORE, {"id": mine_id, "c": "nope"}))["restoreBackup"]
    assert wrong["jobId"] is None and wrong["errors"][0]["field"] == "confirm"
    queued = (await owner(RESTORE, {"id": mine_id, "c": demo.ref.slug}))["restoreBackup"]
    assert queued["errors"] == [] and queued["jobId"]
    created = (await owner(CREATE))["createBackup"]
    assert created["errors"] == [] and created["backup"]["status"] == "queued"

    stranger = await gql_as(other.admin_email, other.ref.slug)
    assert mine_id not in {b["id"] for b in (await stranger(LIST))["backups"]}
    refused = (await stranger(RESTORE, {"id": mine_id, "c": other.ref.slug}))["restoreBackup"]
    assert refused["jobId"] is None and refused["errors"][0]["code"] == "NOT_FOUND"
    refused = (await stranger(VERIFY, {"id": mine_id}))["verifyBackup"]
    assert not refused["ok"] and refused["errors"][0]["code"] == "NOT_FOUND"

    sales = await gql_as(other.sales_email, other.ref.slug)
    body = (await sales.post(LIST)).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
