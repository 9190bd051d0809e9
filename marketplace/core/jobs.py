"""Background jobs: RQ on Redis when ``REDIS_URL`` is set, inline (as before) without it.

An area declares a job with ``@job(name, timeout=…, retries=…)`` on a plain function (its arguments: ids
and small JSON-like values, never ORM objects) and queues it with ``enqueue(name, *args)``. A worker
(``flask worker``) runs each job in a fresh app context inside ``uow.transaction()``: it commits when the
function returns and rolls back when it raises (a job may ``uow.commit_early`` between items). Every job is
idempotent — run twice, it changes nothing the second time — so a retry, a duplicate or a worker killed
half-way is harmless.

* **Queued with the transaction.** ``enqueue`` inside a transaction pushes the job to Redis only when that
  transaction commits (a rolled-back request queues nothing, and the worker never runs before the rows it
  needs are visible); outside a transaction it is pushed at once.
* **Inline mode.** Without ``REDIS_URL`` (or with ``JOBS_INLINE``) ``is_async()`` is false: the areas keep
  their synchronous paths (derivatives in the upload request, mail after the response, imports in the
  request), and ``enqueue`` runs the job at once in the caller's transaction.
* **Time limit and retries.** Each job has a time limit (rq kills it past ``timeout`` seconds) and a retry
  policy (``retries`` more attempts after ``intervals`` seconds; rq's scheduler, started by ``flask worker``,
  puts them back). A job that fails every attempt stays in rq's failed-job registry with its traceback:
  ``failed_jobs()`` lists them (``/admin/jobs``), ``retry_failed``/``delete_failed`` act on one.
* **Schedule.** ``every="SETTING"`` (seconds) or ``cron="SETTING"`` (a crontab line, server time) makes the
  job periodic: ``flask worker`` runs rq's ``CronScheduler`` in a child process. Several workers may run
  it; a lock in Redis lets one of them enqueue (the others only keep time), so each tick is queued once.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import click
import redis
import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from flask.cli import with_appcontext
from rq import Queue, Retry, SimpleWorker, Worker
from rq.cron import CronScheduler
from rq.job import Job, get_current_job
from rq.registry import FailedJobRegistry
from rq.utils import now as rq_now

from marketplace.core import uow
from marketplace.extensions import db

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "default"
BULK_QUEUE = "bulk"  # long jobs (bulk imports): a worker takes them after the default queue is empty
QUEUES = (DEFAULT_QUEUE, BULK_QUEUE)
_SESSION_KEY = "marketplace_jobs_after_commit"
CRON_LOCK = "marketplace:jobs:cron-leader"
CRON_LOCK_SECONDS = 90


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: Callable
    timeout: int
    retries: int
    intervals: tuple[int, ...]
    queue: str
    every: str | None  # setting holding the period in seconds
    cron: str | None  # setting holding a crontab line
    on_error: Callable | None  # on_error(*args, exc) in a fresh transaction after a failed attempt


REGISTRY: dict[str, JobSpec] = {}


def job(name: str, *, timeout: int = 300, retries: int = 3, intervals: tuple[int, ...] = (10, 60, 300),
        queue: str = DEFAULT_QUEUE, every: str | None = None, cron: str | None = None,
        on_error: Callable | None = None):
    """Declare ``func`` as the background job ``name`` (returns the function unchanged). ``on_error(*args,
    exc)`` runs in its own transaction after an attempt failed (and was rolled back), e.g. to show it."""

    def register(func: Callable) -> Callable:
        existing = REGISTRY.get(name)
        if existing is not None and existing.func is not func:
            raise ValueError(f"job {name!r} declared twice")
        REGISTRY[name] = JobSpec(name, func, timeout, retries, tuple(intervals), queue, every, cron, on_error)
        return func

    return register


# --- mode and connection ------------------------------------------------------------------------------

def is_async(app: Flask | None = None) -> bool:
    """True when jobs go to RQ (``REDIS_URL`` set and ``JOBS_INLINE`` off)."""
    config = (app or current_app).config
    return bool(config["REDIS_URL"]) and not config["JOBS_INLINE"]


def connection(app: Flask | None = None) -> redis.Redis:
    app = app or current_app._get_current_object()
    conn = app.extensions.get("marketplace_jobs_redis")
    if conn is None:
        conn = redis.Redis.from_url(app.config["REDIS_URL"])
        app.extensions["marketplace_jobs_redis"] = conn
    return conn


def queue(name: str = DEFAULT_QUEUE, app: Flask | None = None) -> Queue:
    return Queue(name, connection=connection(app))


def job_id(name: str, key: str | int | None) -> str | None:
    """A stable id for a job on one object (``media-derivatives-42``): a repeat replaces the queued one."""
    return None if key is None else re.sub(r"[^A-Za-z0-9_-]", "-", f"{name}-{key}")


# --- enqueue ------------------------------------------------------------------------------------------

def enqueue(name: str, *args, key: str | int | None = None, with_transaction: bool = True) -> str | None:
    """Queue job ``name`` with ``args``; returns its id (async) or None (inline: run at once, in the caller's
    transaction). Inside a transaction the job is pushed when it commits, dropped if it rolls back;
    ``with_transaction=False`` pushes it now (change-feed subscribers: their transaction has committed)."""
    spec = REGISTRY[name]
    if not is_async():
        spec.func(*args)
        return None
    ident = job_id(name, key)
    session = db.session()
    if with_transaction and session.in_transaction():
        session.info.setdefault(_SESSION_KEY, []).append((spec, args, ident))
        return ident
    return _push(current_app._get_current_object(), spec, args, ident).id


def _push(app: Flask, spec: JobSpec, args: tuple, ident: str | None) -> Job:
    retry = Retry(max=spec.retries, interval=list(spec.intervals)) if spec.retries else None
    return queue(spec.queue, app).enqueue(
        perform, args=(spec.name, *args), job_id=ident, job_timeout=spec.timeout, retry=retry,
        failure_ttl=int(app.config["JOBS_FAILED_TTL"]), result_ttl=3600, description=spec.name,
        meta={"job": spec.name})


def _after_commit(session) -> None:
    pending = session.info.pop(_SESSION_KEY, None)
    if not pending or not has_app_context():
        return
    app = current_app._get_current_object()
    for spec, args, ident in pending:
        try:
            _push(app, spec, args, ident)
        except redis.RedisError:  # the periodic sweeps (e.g. media.sweep) pick up what is left undone
            log.exception("could not queue job %s%r", spec.name, args)


def _after_rollback(session) -> None:
    session.info.pop(_SESSION_KEY, None)


# --- running a job ------------------------------------------------------------------------------------

_worker_app: Flask | None = None
_engine_pid: dict[int, int] = {}
_START_PID = os.getpid()


def perform(name: str, *args):
    """What rq runs: job ``name`` in a fresh app context and one unit of work."""
    app = current_app._get_current_object() if has_app_context() else _worker_app
    if app is None:
        raise RuntimeError("no app: start workers with `flask worker`")
    spec = REGISTRY[name]
    with app.app_context():
        engine = db.engine
        if os.getpid() != _START_PID and _engine_pid.get(id(engine)) != os.getpid():
            # a forked work horse must not use (nor close) the parent's pooled connections
            engine.dispose(close=False)
            _engine_pid[id(engine)] = os.getpid()
        cpu_started = time.process_time()
        try:
            with uow.transaction():
                result = spec.func(*args)
            _note_cpu(time.process_time() - cpu_started)
            return result
        except Exception as exc:
            if spec.on_error is not None:
                try:
                    with uow.transaction():
                        spec.on_error(*args, exc)
                except Exception:  # the job's own error is the one rq records
                    log.exception("on_error of job %s failed", name)
            raise
        finally:
            db.session.remove()


def _note_cpu(seconds: float) -> None:
    """Keep the job's CPU time in its rq meta (``cpu_seconds``): what the work cost, whatever the load."""
    current = get_current_job()
    if current is not None:
        try:
            current.meta["cpu_seconds"] = round(seconds, 4)
            current.save_meta()
        except redis.RedisError:  # pragma: no cover - the figure is informative only
            pass


def run_burst(app: Flask, queues=QUEUES, *, with_scheduler: bool = False, max_jobs: int | None = None) -> bool:
    """Run every queued job in this process until the queues are empty (tests, ``flask worker --burst``)."""
    global _worker_app
    _worker_app = app
    conn = connection(app)
    worker = SimpleWorker([Queue(q, connection=conn) for q in queues], connection=conn)
    return worker.work(burst=True, with_scheduler=with_scheduler, max_jobs=max_jobs, logging_level="WARNING")


# --- schedule -----------------------------------------------------------------------------------------

class LeaderCronScheduler(CronScheduler):
    """rq's CronScheduler, enqueuing only while it holds the Redis lock (one per cluster); the others keep
    time without enqueuing, and take over within ``CRON_LOCK_SECONDS`` when the leader stops."""

    def _lead(self) -> bool:
        conn = self.connection
        if conn.set(CRON_LOCK, self.name, nx=True, ex=CRON_LOCK_SECONDS):
            return True
        holder = conn.get(CRON_LOCK)
        if holder is not None and holder.decode() == self.name:
            conn.expire(CRON_LOCK, CRON_LOCK_SECONDS)
            return True
        return False

    def enqueue_jobs(self):
        leader = self._lead()
        when = rq_now()
        enqueued = []
        for cron_job in self._cron_jobs:
            if cron_job.should_run():
                if leader:
                    cron_job.enqueue(self.connection)
                    enqueued.append(cron_job)
                cron_job.set_enqueue_time(when)
        return enqueued

    def calculate_sleep_interval(self) -> float:
        return min(super().calculate_sleep_interval(), CRON_LOCK_SECONDS / 3)


def scheduled_jobs(app: Flask) -> list[tuple[JobSpec, int | None, str | None]]:
    """(spec, every seconds, crontab) of each periodic job switched on (a setting of 0 or empty: off)."""
    out = []
    for spec in REGISTRY.values():
        every = int(app.config[spec.every]) if spec.every else None
        cron = app.config[spec.cron] if spec.cron else None
        if every or cron:
            out.append((spec, every or None, cron or None))
    return out


def build_cron(app: Flask) -> LeaderCronScheduler:
    cron = LeaderCronScheduler(connection=connection(app), logging_level="WARNING")
    for spec, every, line in scheduled_jobs(app):
        cron.register(perform, spec.queue, args=(spec.name,), interval=every, cron=line, name=spec.name,
                      job_timeout=spec.timeout, failure_ttl=int(app.config["JOBS_FAILED_TTL"]), result_ttl=3600)
    return cron


def _run_cron(app: Flask) -> None:
    build_cron(app).start()


# --- failed jobs (the admin page) ---------------------------------------------------------------------

@dataclass
class FailedJob:
    id: str
    name: str
    queue: str
    args: tuple
    enqueued_at: datetime | None
    ended_at: datetime | None
    error: str  # last line of the traceback
    traceback: str


def _naive_utc(value: datetime | None) -> datetime | None:
    """rq's aware UTC times as the app's naive UTC (core/time.py)."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _failed_registries(app: Flask | None = None) -> list[FailedJobRegistry]:
    return [FailedJobRegistry(queue=queue(q, app)) for q in QUEUES]


def failed_jobs(limit: int = 200) -> list[FailedJob]:
    """Jobs that failed every attempt, newest first."""
    out: list[FailedJob] = []
    for registry in _failed_registries():
        ids = registry.get_job_ids(0, limit - 1, desc=True)
        for found in Job.fetch_many(ids, connection=registry.connection):
            if found is None:
                continue
            result = found.latest_result()
            trace = (result.exc_string if result is not None else None) or ""
            lines = [line for line in trace.strip().splitlines() if line.strip()]
            args = tuple(found.args[1:]) if found.args else ()
            out.append(FailedJob(found.id, found.meta.get("job") or found.description or found.func_name,
                                 registry.name, args, _naive_utc(found.enqueued_at), _naive_utc(found.ended_at),
                                 lines[-1] if lines else "", trace))
    out.sort(key=lambda j: j.ended_at or datetime.min, reverse=True)
    return out[:limit]


def _find_failed(ident: str) -> tuple[FailedJobRegistry, str] | None:
    for registry in _failed_registries():
        if ident in registry.get_job_ids():
            return registry, ident
    return None


def retry_failed(ident: str) -> bool:
    """Put a failed job back in its queue; False if it is not (or no longer) in the failed list."""
    found = _find_failed(ident)
    if found is None:
        return False
    registry, ident = found
    registry.requeue(ident)
    return True


def delete_failed(ident: str) -> bool:
    found = _find_failed(ident)
    if found is None:
        return False
    registry, ident = found
    registry.remove(ident, delete_job=True)
    return True


def queue_counts() -> dict[str, int]:
    return {q: queue(q).count for q in QUEUES}


# --- wiring and the command ---------------------------------------------------------------------------

def init_app(app: Flask) -> None:
    for name, fn in (("after_commit", _after_commit), ("after_rollback", _after_rollback)):
        if not sa.event.contains(db.session, name, fn):
            sa.event.listen(db.session, name, fn)
    app.cli.add_command(worker_command)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run what is queued, then stop (no schedule).")
@click.option("--no-schedule", is_flag=True, help="Do not run the periodic jobs' scheduler in this worker.")
@click.option("--queue", "queues", multiple=True, type=click.Choice(QUEUES), help="Queues to take (default all).")
@click.option("--fork", is_flag=True, help="Run each job in a forked process (rq's Worker) instead of in the "
              "worker process (SimpleWorker, the default: no fork per job, warm caches; time limits apply alike).")
@with_appcontext
def worker_command(burst: bool, no_schedule: bool, queues: tuple[str, ...], fork: bool) -> None:
    """Run an RQ worker for the app's background jobs (needs REDIS_URL); with the schedulers of delayed
    retries and of the periodic jobs (reconcile, mail, stats, search, media sweep)."""
    global _worker_app
    app = current_app._get_current_object()
    if not is_async(app):
        raise click.UsageError("REDIS_URL is not set (or JOBS_INLINE is on): jobs run inline, no worker needed.")
    _worker_app = app
    if app.config["JOBS_WORKER_NICE"]:
        # background work yields the CPU to the web processes of the same host (uploads answer at once)
        os.nice(int(app.config["JOBS_WORKER_NICE"]))
    conn = connection(app)
    db.session.remove()
    db.engine.dispose()  # the scheduler processes (and, with --fork, the work horses) are forked
    cron_process = None
    if not burst and not no_schedule and scheduled_jobs(app):
        cron_process = multiprocessing.get_context("fork").Process(target=_run_cron, args=(app,), daemon=True,
                                                                   name="marketplace-cron")
        cron_process.start()
    worker_class = Worker if fork else SimpleWorker
    worker = worker_class([Queue(q, connection=conn) for q in (queues or QUEUES)], connection=conn)
    try:
        worker.work(burst=burst, with_scheduler=not no_schedule, logging_level="INFO")
    finally:
        if cron_process is not None and cron_process.is_alive():
            cron_process.terminate()
            cron_process.join(10)
