"""Jobs over GraphQL: job, jobs (keyset), cancelJob, retryJob; admins see the company's jobs, others
their own; two look-alike tenants never see each other's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from crm_api.relay import to_global_id
from crm_core.jobs import service as jobs
from crm_core.jobs.models import Job, JobStatus
from crm_core.jobs.tasks import SELFTEST
from crm_core.messaging.outbox import NullDispatcher, unit_of_work

JOB = "query($id: ID!) { job(id: $id) { id kind status attempts error startedBy { email } } }"
JOBS = (
    "query($f: JobFilter, $after: String) { jobs(first: 2, after: $after, filter: $f) "
    "{ totalCount pageInfo { hasNextPage endCursor } edges { node { id status } } } }"
)
CANCEL = "mutation($id: ID!) { cancelJob(id: $id) { job { status cancelRequested } errors { field code message } } }"
RETRY = "mutation($id: ID!) { retryJob(id: $id) { job { status attempts } errors { field code message } } }"


async def _jobs(db: Any, tenant: Any, who: Any, n: int) -> list[str]:
    out = []
    async with unit_of_work(db.tenant(tenant.ref), NullDispatcher()) as session:
        for i in range(n):
            job = await jobs.enqueue(session, who, SELFTEST, {"i": i})
            out.append(to_global_id("Job", job.id))
    return out


async def test_jobs_are_scoped_to_tenant_and_starter(db, gql_as, tenant_a, tenant_b) -> None:
    admin_a = await gql_as(tenant_a.admin_email, "alpha")
    sales_a = await gql_as(tenant_a.sales_email, "alpha")
    admin_b = await gql_as(tenant_b.admin_email, "bravo")
    mine = await _jobs(db, tenant_a, tenant_a.sales, 3)
    admins = await _jobs(db, tenant_a, tenant_a.admin, 1)
    theirs = await _jobs(db, tenant_b, tenant_b.admin, 2)

    one = (await sales_a(JOB, {"id": mine[0]}))["job"]
    assert one["kind"] == SELFTEST and one["status"] == "QUEUED"
    assert one["startedBy"]["email"] == tenant_a.sales_email
    # Another tenant's job, and (for a non-admin) a colleague's job, do not exist.
    assert (await admin_a(JOB, {"id": theirs[0]}))["job"] is None
    assert (await sales_a(JOB, {"id": admins[0]}))["job"] is None
    assert (await admin_b(JOB, {"id": mine[0]}))["job"] is None
    assert (await admin_a(JOB, {"id": admins[0]}))["job"] is not None

    f = {"kind": {"eq": SELFTEST}}
    page = (await sales_a(JOBS, {"f": f}))["jobs"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"]
    rest = (await sales_a(JOBS, {"f": f, "after": page["pageInfo"]["endCursor"]}))["jobs"]
    seen = [e["node"]["id"] for e in page["edges"] + rest["edges"]]
    assert sorted(seen) == sorted(mine)
    everything = (await admin_a(JOBS, {"f": f}))["jobs"]["totalCount"]
    assert everything >= 4
    b_ids = set()
    after = None
    while True:
        got = (await admin_b(JOBS, {"f": f, "after": after}))["jobs"]
        b_ids |= {e["node"]["id"] for e in got["edges"]}
        if not got["pageInfo"]["hasNextPage"]:
            break
        after = got["pageInfo"]["endCursor"]
    assert set(theirs) <= b_ids and not (b_ids & set(mine + admins))

    # cancelJob: not across tenants, not a colleague's job for a non-admin.
    for client, target in ((admin_b, mine[0]), (sales_a, admins[0])):
        refused = (await client(CANCEL, {"id": target}))["cancelJob"]
        assert refused["job"] is None and refused["errors"][0]["code"] == "NOT_FOUND"
    done = (await sales_a(CANCEL, {"id": mine[0]}))["cancelJob"]
    assert done == {"job": {"status": "CANCELLED", "cancelRequested": True}, "errors": []}
    again = (await sales_a(CANCEL, {"id": mine[0]}))["cancelJob"]
    assert again["errors"][0]["field"] == "id" and again["errors"][0]["code"] == "INVALID"


async def test_retry_job_reruns_dead_letters_only(db, gql_as, tenant_a, tenant_b) -> None:
    admin_a = await gql_as(tenant_a.admin_email, "alpha")
    admin_b = await gql_as(tenant_b.admin_email, "bravo")
    [queued, dead] = await _jobs(db, tenant_a, tenant_a.admin, 2)
    from crm_api.relay import from_global_id

    async with db.tenant(tenant_a.ref).transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.id == from_global_id(dead)[1])
            .values(status=JobStatus.dead, attempts=4, error="boom")
        )
    not_yet = (await admin_a(RETRY, {"id": queued}))["retryJob"]
    assert not_yet["job"] is None and not_yet["errors"][0]["code"] == "INVALID"
    other = (await admin_b(RETRY, {"id": dead}))["retryJob"]
    assert other["job"] is None and other["errors"][0]["code"] == "NOT_FOUND"
    rerun = (await admin_a(RETRY, {"id": dead}))["retryJob"]
    assert rerun == {"job": {"status": "QUEUED", "attempts": 0}, "errors": []}
    dead_letters = (await admin_a(JOBS, {"f": {"status": {"eq": "DEAD"}}}))["jobs"]
    assert dead not in [e["node"]["id"] for e in dead_letters["edges"]]
