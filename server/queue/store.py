"""The durable FIFO queue: enqueue, claim with a lease, ack, retry, dead letters.

One store serves several named queues (erp_events, outbox, inbox) in one table.
Guarantees:
- enqueue returns only after the row is committed; a repeated request_id returns
  the first answer;
- a pending message with the same entity key is coalesced: the newer payload
  replaces the older one's and keeps its place;
- messages with the same entity key are handed out one at a time in id order, so
  a retry in back-off holds back the later messages of that entity only;
- a claimed message whose lease runs out (its worker died) can be claimed again;
- a message that fails permanently, or too often, becomes a dead letter and stops
  blocking the messages behind it.
"""

from __future__ import annotations

import contextlib
import os
import json
import logging
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import unquote

import peewee
from playhouse import db_url

from .models import DEAD, LEASED, PENDING, Tables, add_missing_columns, make_tables

log = logging.getLogger(__name__)

QUEUES = ("erp_events", "outbox", "inbox")


class QueueError(Exception):
    """Base class of the queue's own errors."""


class NotFound(QueueError):
    """No message (or dead letter) with that id."""


@dataclass(frozen=True)
class Message:
    id: int
    queue: str
    kind: str
    entity_key: str | None
    payload: dict[str, Any]
    attempts: int
    created_at: float
    lease_token: str


@dataclass(frozen=True)
class EnqueueResult:
    id: int
    duplicate: bool = False
    coalesced: bool = False


@dataclass
class _PendingEnqueue:
    """One caller's enqueue, waiting for the group commit that writes it."""

    queue: str
    items: list[tuple[str, dict[str, Any], str | None, str | None]]
    coalesce: bool
    results: list[EnqueueResult] = field(default_factory=list)
    error: BaseException | None = None
    done: bool = False


@dataclass(frozen=True)
class QueueStat:
    queue: str
    pending: int
    in_flight: int
    dead: int
    oldest_age_seconds: float


@dataclass(frozen=True)
class DeadLetter:
    id: int
    queue: str
    kind: str
    entity_key: str | None
    attempts: int
    reason: str
    created_at: float
    dead_at: float
    payload: dict[str, Any]
    status: str = "dead letter"
    why: str | None = None  # the reason as a code with parameters (server/reasons.py), when known


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off with full jitter: base * 2**(attempt-1), capped."""

    base: float = 1.0
    cap: float = 300.0
    max_attempts: int = 12

    def delay(self, attempt: int) -> float:
        top = min(self.cap, self.base * (2 ** max(0, attempt - 1)))
        return random.uniform(top / 2, top)


def open_database(url: str, *, sqlite_synchronous: str = "FULL") -> peewee.Database:
    """A peewee database for `sqlite:///path` or `postgresql://user:pw@host:port/db` (peewee's own URL
    parser, playhouse.db_url); SQLite in WAL mode with a busy timeout, usable from every thread."""
    scheme = url.split(":", 1)[0]
    if scheme == "sqlite" and url.startswith("sqlite:///"):
        return db_url.connect(url, pragmas={"journal_mode": "wal", "synchronous": sqlite_synchronous.upper(),
                                            "busy_timeout": 10000, "foreign_keys": 1},
                              timeout=10, check_same_thread=False)
    if scheme in ("postgresql", "postgres"):
        params = db_url.parse(url)  # it leaves %-escapes in the user and password as they are
        params.update({k: unquote(params[k]) for k in ("user", "password") if params.get(k)})
        return peewee.PostgresqlDatabase(**params)
    raise QueueError(f"unsupported queue database URL scheme: {scheme!r} (sqlite:///PATH or postgresql://...)")


def owner_only(db: Path) -> None:
    """The queue database holds customers' data and the console's signing key: readable and writable by the
    server's account alone (its journal files too). POSIX modes; on Windows the data folder's ACL does it
    (docs/deployment.md)."""
    if os.name != "posix":
        return
    for f in [db, *db.parent.glob(db.name + "-*")]:
        try:
            if f.stat().st_uid == os.getuid() and f.stat().st_mode & 0o077:
                f.chmod(0o600)
        except FileNotFoundError:
            continue


class QueueStore:
    """The queue over one peewee database (SQLite or PostgreSQL)."""

    def __init__(self, db: peewee.Database, backoff: Backoff | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        """`clock` gives the time (Unix seconds) of leases, back-off and ages; tests move a fake one."""
        self.db = db
        self.clock = clock
        self.t: Tables = make_tables(db)
        self.backoff = backoff or Backoff()
        self.is_postgres = isinstance(db, peewee.PostgresqlDatabase)
        self._wake = threading.Condition()
        self._write_lock = threading.RLock()
        self._pending_lock = threading.Lock()
        self._pending: list[_PendingEnqueue] = []
        self._closed = False

    @classmethod
    def from_url(cls, url: str, *, sqlite_synchronous: str = "FULL",
                 backoff: Backoff | None = None, clock: Callable[[], float] = time.time) -> "QueueStore":
        path = None
        if url.startswith("sqlite:///"):
            from pathlib import Path

            path = Path(url[len("sqlite:///"):])
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        store = cls(open_database(url, sqlite_synchronous=sqlite_synchronous), backoff, clock)
        store.create_tables()
        if path is not None:
            owner_only(path)
        return store

    # -- set-up ------------------------------------------------------------
    def create_tables(self) -> None:
        with self.db.connection_context():
            self.db.create_tables(self.t.all(), safe=True)
            add_missing_columns(self.db, self.t.message)

    def close(self) -> None:
        self._closed = True
        self.notify()
        if not self.db.is_closed():
            self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction.

        SQLite: threads of this process take turns on a lock first (SQLite's own
        busy handler would sleep up to 100 ms per retry), then BEGIN IMMEDIATE so
        two claimers never read the same candidates. PostgreSQL relies on row
        locks (FOR UPDATE SKIP LOCKED).
        """
        if self.is_postgres:
            with self.db.atomic():
                yield
            return
        with self._write_lock, self.db.atomic("IMMEDIATE"):
            yield

    def ensure_connected(self) -> None:
        if self.db.is_closed():
            self.db.connect(reuse_if_open=True)

    # -- producer side -----------------------------------------------------
    def enqueue(self, queue: str, kind: str, payload: dict[str, Any], *,
                entity_key: str | None = None, request_id: str | None = None,
                coalesce: bool = True) -> EnqueueResult:
        """Store a message durably and return its id (committed before return)."""
        result = self.enqueue_many(queue, [(kind, payload, entity_key, request_id)], coalesce=coalesce)
        return result[0]

    def enqueue_many(self, queue: str,
                     items: Iterable[tuple[str, dict[str, Any], str | None, str | None]],
                     *, coalesce: bool = True) -> list[EnqueueResult]:
        """Enqueue several messages durably (kind, payload, entity_key, request_id); returns after commit.

        Group commit: callers that arrive while another commit is running are
        written together in the next transaction, one fsync for all of them, each
        still answered only after its rows are committed.
        """
        if queue not in QUEUES:
            raise QueueError(f"unknown queue {queue!r}")
        mine = _PendingEnqueue(queue, list(items), coalesce)
        with self._pending_lock:
            self._pending.append(mine)
        self.ensure_connected()
        with self._write_lock:
            if not mine.done:
                with self._pending_lock:
                    batch, self._pending = self._pending, []
                try:
                    with self.transaction():
                        for job in batch:
                            job.results = self._write_enqueue(job)
                except BaseException as exc:
                    for job in batch:
                        job.error = exc
                    raise
                finally:
                    for job in batch:
                        job.done = True
        if mine.error is not None:
            raise mine.error
        self.notify()
        return mine.results

    def _write_enqueue(self, job: "_PendingEnqueue") -> list[EnqueueResult]:
        # The hot path of every hook call, so it is plain SQL rather than query building.
        p = self.db.param
        now = self.clock()
        queue = job.queue
        results: list[EnqueueResult] = []
        for kind, payload, entity_key, request_id in job.items:
            body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
            if request_id:
                seen = self.db.execute_sql(
                    f"SELECT message_id FROM queue_request WHERE request_id = {p}", (request_id,)).fetchone()
                if seen is not None:
                    results.append(EnqueueResult(id=int(seen[0]), duplicate=True))
                    continue
            msg_id = None
            coalesced = False
            if job.coalesce and entity_key is not None:
                older = self.db.execute_sql(
                    f"SELECT id FROM queue_message WHERE queue = {p} AND entity_key = {p} AND status = {PENDING} "
                    "ORDER BY id DESC LIMIT 1", (queue, entity_key)).fetchone()
                if older is not None:
                    msg_id, coalesced = int(older[0]), True
                    self.db.execute_sql(f"UPDATE queue_message SET payload = {p}, kind = {p} WHERE id = {p}",
                                        (body, kind, msg_id))
            if msg_id is None:
                sql = (f"INSERT INTO queue_message (queue, kind, entity_key, payload, status, attempts, "
                       f"created_at, available_at) VALUES ({p}, {p}, {p}, {p}, {PENDING}, 0, {p}, {p})")
                params = (queue, kind, entity_key, body, now, now)
                if self.is_postgres:
                    msg_id = int(self.db.execute_sql(sql + " RETURNING id", params).fetchone()[0])
                else:
                    msg_id = int(self.db.execute_sql(sql, params).lastrowid)
            if request_id:
                self.db.execute_sql(f"INSERT INTO queue_request (request_id, message_id, created_at) "
                                    f"VALUES ({p}, {p}, {p})", (request_id, msg_id, now))
            results.append(EnqueueResult(id=msg_id, coalesced=coalesced))
        return results

    # -- consumer side -----------------------------------------------------
    def claim(self, queue: str, *, limit: int = 1, lease_seconds: float = 60.0) -> list[Message]:
        """Lease up to `limit` deliverable messages, oldest first, one per entity key."""
        M = self.t.message
        now = self.clock()
        token = uuid.uuid4().hex
        P = M.alias("p")
        earlier = (P.select(peewee.SQL("1"))
                   .where((P.queue == M.queue) & (P.entity_key == M.entity_key)
                          & (P.id < M.id) & (P.status.in_([PENDING, LEASED]))))
        ready = (((M.status == PENDING) & (M.available_at <= now))
                 | ((M.status == LEASED) & (M.lease_until <= now)))
        query = (M.select(M.id, M.entity_key)
                 .where((M.queue == queue) & ready
                        & (M.entity_key.is_null() | ~peewee.fn.EXISTS(earlier)))
                 .order_by(M.id)
                 .limit(limit))
        if self.is_postgres:
            query = query.for_update(of=M, skip_locked=True)
        self.ensure_connected()
        with self.transaction():
            rows = list(query.tuples())
            picked: list[int] = []
            keys: set[str] = set()
            for msg_id, key in rows:
                # Belt and braces: two messages of one entity never go out together.
                if key is not None and key in keys:
                    continue
                if key is not None:
                    keys.add(key)
                picked.append(msg_id)
            if not picked:
                return []
            (M.update(status=LEASED, lease_until=now + lease_seconds, lease_token=token,
                      attempts=M.attempts + 1)
             .where(M.id.in_(picked)).execute())
            claimed = list(M.select().where(M.id.in_(picked)).order_by(M.id))
        return [Message(id=m.id, queue=m.queue, kind=m.kind, entity_key=m.entity_key,
                        payload=json.loads(m.payload), attempts=m.attempts,
                        created_at=m.created_at, lease_token=token) for m in claimed]

    def ack(self, messages: Message | Iterable[Message]) -> int:
        """Delete delivered messages; a message whose lease was lost is left alone."""
        msgs = [messages] if isinstance(messages, Message) else list(messages)
        if not msgs:
            return 0
        by_token: dict[str, list[int]] = {}
        for m in msgs:
            by_token.setdefault(m.lease_token, []).append(m.id)
        p = self.db.param
        self.ensure_connected()
        done = 0
        with self.transaction():
            for token, ids in by_token.items():
                for start in range(0, len(ids), 500):
                    chunk = ids[start:start + 500]
                    done += self.db.execute_sql(
                        f"DELETE FROM queue_message WHERE lease_token = {p} AND status = {LEASED} "
                        f"AND id IN ({', '.join([p] * len(chunk))})", (token, *chunk)).rowcount
        if done:
            self.notify()
        return done

    def fail(self, message: Message, error: str, *, retryable: bool, why: str | None = None) -> str:
        """Record a failed delivery: back off and retry, or make it a dead letter.

        `error` is the reason in English (logs, command line); `why` the same as a code with parameters
        (server/reasons.py), rendered in the reader's language. Returns "retry" or "dead".
        """
        M = self.t.message
        now = self.clock()
        dead = (not retryable) or message.attempts >= self.backoff.max_attempts
        self.ensure_connected()
        with self.transaction():
            q = M.update(last_error=error[:4000], why=why, lease_until=None, lease_token=None,
                         status=DEAD if dead else PENDING,
                         dead_at=now if dead else None,
                         available_at=now if dead else now + self.backoff.delay(message.attempts))
            q.where((M.id == message.id) & (M.lease_token == message.lease_token)).execute()
        kept = message.id
        if dead and message.entity_key:
            # One dead letter per entity (e.g. the same bad order from a webhook and from polling): the
            # first one stays, under the id already logged and shown, with the newest message's content and
            # reason; the newer row goes. A person sees each problem once, and the id they were told answers.
            with self.transaction():
                first = (M.select(M.id).where((M.queue == message.queue) & (M.entity_key == message.entity_key)
                                              & (M.status == DEAD) & (M.id != message.id))
                         .order_by(M.id).first())
                if first is not None:
                    kept = first.id
                    M.update(kind=message.kind, payload=M.select(M.payload).where(M.id == message.id),
                             last_error=error[:4000], why=why, dead_at=now, attempts=message.attempts
                             ).where(M.id == kept).execute()
                    M.delete().where((M.queue == message.queue) & (M.entity_key == message.entity_key)
                                     & (M.status == DEAD) & (M.id != kept)).execute()
        if dead:
            again = f" (again: kept as dead letter {kept})" if kept != message.id else ""
            log.warning("message %s (%s %s) is a dead letter after %d attempt(s)%s: %s",
                        message.id, message.queue, message.entity_key or message.kind,
                        message.attempts, again, error)
            self.notify()
        else:
            log.info("message %s (%s) will be retried: %s", message.id,
                     message.entity_key or message.kind, error)
        return "dead" if dead else "retry"

    def park(self, message: Message, reason: str, seconds: float, *, why: str | None = None) -> None:
        """The message waits for something outside (a person): look again in `seconds`.

        Waiting is a state, not a failure: no attempt is counted, so it never becomes a
        dead letter by waiting; `reason` is shown as its last error meanwhile.
        """
        M = self.t.message
        self.ensure_connected()
        with self.transaction():
            (M.update(status=PENDING, lease_until=None, lease_token=None, last_error=f"waiting: {reason}"[:4000],
                      why=why,
                      available_at=self.clock() + seconds,
                      attempts=peewee.fn.MAX(M.attempts - 1, 0) if not self.is_postgres
                      else peewee.fn.GREATEST(M.attempts - 1, 0))
             .where((M.id == message.id) & (M.lease_token == message.lease_token)).execute())
        log.info("message %s (%s) waits: %s", message.id, message.entity_key or message.kind, reason)

    def release_all_leases(self) -> int:
        """Return every claimed message to the queue (start-up of the only server of a local queue:
        whoever claimed them has stopped). Their attempt stays counted: a message that crashes its
        server still reaches its dead letter."""
        M = self.t.message
        self.ensure_connected()
        with self.transaction():
            n = (M.update(status=PENDING, lease_until=None, lease_token=None)
                 .where(M.status == LEASED).execute())
        if n:
            self.notify()
        return n

    def release(self, messages: Iterable[Message]) -> None:
        """Give claimed messages back unchanged (shutdown): not counted as an attempt."""
        M = self.t.message
        msgs = list(messages)
        if not msgs:
            return
        self.ensure_connected()
        with self.transaction():
            for m in msgs:
                (M.update(status=PENDING, lease_until=None, lease_token=None,
                          attempts=peewee.fn.MAX(M.attempts - 1, 0) if not self.is_postgres
                          else peewee.fn.GREATEST(M.attempts - 1, 0))
                 .where((M.id == m.id) & (M.lease_token == m.lease_token)).execute())
        self.notify()

    # -- waiting -----------------------------------------------------------
    def waiting_keys(self, queue: str, keys: Iterable[str]) -> set[str]:
        """Which of these entity keys have a message waiting or in flight in `queue`."""
        wanted = list(dict.fromkeys(keys))
        found: set[str] = set()
        M = self.t.message
        self.ensure_connected()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            found |= {k for (k,) in M.select(M.entity_key).where(
                (M.queue == queue) & M.entity_key.in_(chunk) & M.status.in_([PENDING, LEASED])).tuples()}
        return found

    def notify(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def wait(self, timeout: float) -> None:
        """Sleep until something is enqueued in this process, or `timeout` passes."""
        with self._wake:
            if not self._closed:
                self._wake.wait(timeout)

    def next_available_in(self, queue: str) -> float | None:
        """Seconds until the next message in back-off or lease becomes claimable, None if none."""
        M = self.t.message
        now = self.clock()
        self.ensure_connected()
        backoff = (M.select(peewee.fn.MIN(M.available_at))
                   .where((M.queue == queue) & (M.status == PENDING) & (M.available_at > now)).scalar())
        lease = (M.select(peewee.fn.MIN(M.lease_until))
                 .where((M.queue == queue) & (M.status == LEASED)).scalar())
        times = [t for t in (backoff, lease) if t is not None]
        return max(0.0, min(times) - now) if times else None

    # -- admin -------------------------------------------------------------
    def stats(self) -> list[QueueStat]:
        M = self.t.message
        now = self.clock()
        self.ensure_connected()
        counts: dict[tuple[str, int], int] = {}
        for queue, status, n in (M.select(M.queue, M.status, peewee.fn.COUNT(M.id))
                                 .group_by(M.queue, M.status).tuples()):
            counts[(queue, status)] = n
        oldest = dict(M.select(M.queue, peewee.fn.MIN(M.created_at))
                      .where(M.status.in_([PENDING, LEASED])).group_by(M.queue).tuples())
        return [QueueStat(queue=q, pending=counts.get((q, PENDING), 0),
                          in_flight=counts.get((q, LEASED), 0), dead=counts.get((q, DEAD), 0),
                          oldest_age_seconds=max(0.0, now - oldest[q]) if q in oldest else 0.0)
                for q in QUEUES]

    def depth(self, queue: str | None = None) -> int:
        """Pending plus in-flight messages (all queues when None)."""
        M = self.t.message
        self.ensure_connected()
        q = M.select().where(M.status.in_([PENDING, LEASED]))
        if queue:
            q = q.where(M.queue == queue)
        return q.count()

    def dead_letters(self, queue: str | None = None, *, after_id: int = 0,
                     limit: int = 100) -> list[DeadLetter]:
        M = self.t.message
        self.ensure_connected()
        q = M.select().where((M.status == DEAD) & (M.id > after_id))
        if queue:
            q = q.where(M.queue == queue)
        return [DeadLetter(id=m.id, queue=m.queue, kind=m.kind, entity_key=m.entity_key,
                           attempts=m.attempts, reason=m.last_error or "", created_at=m.created_at,
                           dead_at=m.dead_at or m.created_at, payload=json.loads(m.payload), why=m.why)
                for m in q.order_by(M.id).limit(limit)]

    def messages_for(self, entity_keys: Iterable[str], limit: int = 50) -> list[DeadLetter]:
        """Every message (pending, in flight or dead) of these entities, oldest first, for a person looking
        at one product or order; `reason` is its last error, `attempts` how often it was tried."""
        M = self.t.message
        keys = list(entity_keys)
        if not keys:
            return []
        self.ensure_connected()
        q = M.select().where(M.entity_key.in_(keys)).order_by(M.id).limit(limit)
        return [DeadLetter(id=m.id, queue=m.queue, kind=m.kind, entity_key=m.entity_key, attempts=m.attempts,
                           reason=m.last_error or "", created_at=m.created_at, dead_at=m.dead_at or 0.0,
                           payload=json.loads(m.payload), status={PENDING: "pending", LEASED: "in flight",
                                                                  DEAD: "dead letter"}.get(m.status, "?"),
                           why=m.why)
                for m in q]

    def retry_dead(self, dead_id: int) -> int:
        """Move a dead letter to the end of its queue with a fresh attempt count."""
        M = self.t.message
        now = self.clock()
        self.ensure_connected()
        with self.transaction():
            m = M.get_or_none((M.id == dead_id) & (M.status == DEAD))
            if m is None:
                raise NotFound(f"no dead letter with id {dead_id}")
            new_id = M.insert(queue=m.queue, kind=m.kind, entity_key=m.entity_key, payload=m.payload,
                              status=PENDING, attempts=0, created_at=m.created_at,
                              available_at=now).execute()
            M.delete().where(M.id == dead_id).execute()
        self.notify()
        return int(new_id)

    def discard_dead(self, dead_id: int) -> None:
        M = self.t.message
        self.ensure_connected()
        with self.transaction():
            if not M.delete().where((M.id == dead_id) & (M.status == DEAD)).execute():
                raise NotFound(f"no dead letter with id {dead_id}")

    def prune_requests(self, older_than_seconds: float = 7 * 86400) -> int:
        """Forget request ids older than a week (a hook or a person retries within minutes)."""
        R, A = self.t.request, self.t.reply
        self.ensure_connected()
        with self.transaction():
            cutoff = self.clock() - older_than_seconds
            return (R.delete().where(R.created_at < cutoff).execute()
                    + A.delete().where(A.created_at < cutoff).execute())

    # -- answers of admin calls, by request id -------------------------------
    def reply_for(self, key: str) -> bytes | None:
        A = self.t.reply
        self.ensure_connected()
        row = A.select(A.reply).where(A.key == key).first()
        return None if row is None else bytes(row.reply)

    def keep_reply(self, key: str, reply: bytes) -> None:
        """Remember the first answer to `key`; a later one for the same key is not kept."""
        A = self.t.reply
        self.ensure_connected()
        with self.transaction():
            A.insert(key=key, reply=reply, created_at=self.clock()).on_conflict_ignore().execute()
