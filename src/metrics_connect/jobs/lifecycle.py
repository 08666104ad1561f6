"""Wiring the jobs part into a Runtime: the queue, the guard, and what runs on start.

With `broker_url` set, the API process only sends steps to Dramatiq and the
workers do the rest (jobs/worker.py). Without it (the embedded default) the steps
run in this process, and on start the service resumes every unfinished job the
database shows, then keeps sweeping for jobs a crashed process left behind.
"""

from __future__ import annotations

from metrics_connect.jobs import steps, store
from metrics_connect.jobs.broker import DramatiqQueue
from metrics_connect.jobs.context import JobsContext, Step
from metrics_connect.jobs.embedded import InProcessQueue
from metrics_connect.jobs.ssrf import Resolver, WebhookGuard
from metrics_connect.jobs.sweeper import Sweeper, resume_unfinished
from metrics_connect.runtime import Runtime

SERVICE_KEY = "jobs"
# Tests (and operators embedding the service) may put a resolver here before start.
RESOLVER_KEY = "webhook_resolver"


def jobs_context(runtime: Runtime) -> JobsContext:
    ctx = runtime.services.get(SERVICE_KEY)
    if not isinstance(ctx, JobsContext):
        raise RuntimeError("the jobs part is not started on this runtime")
    return ctx


def build_guard(runtime: Runtime) -> WebhookGuard:
    resolver: Resolver | None = runtime.services.get(RESOLVER_KEY)
    return WebhookGuard(runtime.settings.webhook_allowlist, resolver)


def install_jobs(runtime: Runtime) -> None:
    sweeper: Sweeper | None = None

    async def start(rt: Runtime) -> None:
        nonlocal sweeper
        settings = rt.settings
        if settings.broker_url:
            queue = DramatiqQueue(settings.broker_url, settings.job_queue_name)
            rt.services[SERVICE_KEY] = JobsContext.build(rt, queue, build_guard(rt))
            return
        ctx: JobsContext | None = None

        async def run_step(step: Step, job_uuid: str) -> None:
            assert ctx is not None
            if step == "compute":
                await steps.compute_job(ctx, job_uuid)
            else:
                await steps.deliver_job(ctx, job_uuid)

        embedded = InProcessQueue(run_step, settings.job_embedded_concurrency)
        ctx = JobsContext.build(rt, embedded, build_guard(rt))
        rt.services[SERVICE_KEY] = ctx
        await resume_unfinished(ctx)
        sweeper = Sweeper(ctx)
        sweeper.start()

    async def stop(rt: Runtime) -> None:
        ctx = rt.services.pop(SERVICE_KEY, None)
        if sweeper is not None:
            await sweeper.stop()
        if isinstance(ctx, JobsContext):
            await ctx.queue.close()
            # Cancelled steps leave their leases: hand them back for the next start,
            # once the claims and writes under way for them are done.
            await ctx.writes.settled()
            await store.release_all(rt.db, ctx.owner)
            await ctx.close()

    runtime.on_startup(start)
    runtime.on_shutdown(stop)
