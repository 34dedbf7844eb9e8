"""Mail to whoever started a job when it fails, is dead-lettered, or (if its kind asks) finishes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.jobs.models import Job
from crm_core.mail.events import member_addresses, tenant_locale
from crm_core.mail.outbox import queue_mail
from crm_core.tenancy import TenantRef


async def job_ended(session: AsyncSession, tenant: TenantRef, job: Job) -> None:
    if job.started_by is None:
        return
    to = (await member_addresses(session, tenant, [job.started_by])).get(job.started_by)
    if to is None:
        return
    locale, _ = await tenant_locale(session, tenant)
    await queue_mail(
        session,
        tenant,
        # A re-run (retryJob) that ends again is a new event: the attempt count is in the key
        # together with the finish time.
        event_key=f"job.ended:{job.id}:{job.status.value}:{int(job.finished_at.timestamp()) if job.finished_at else 0}",
        to=to,
        template="job_ended",
        context={
            "kind": job.kind,
            "job_id": str(job.id),
            "status": job.status.value,
            "error": (job.error or "")[:500],
        },
        locale=locale,
    )
