"""What the server has been doing, for the people who run it: the console's overview, /metrics and alerts.

Kept in memory by the server process (it is about this run): the last hook of each kind, when orders
were last polled, the last catch-up and reconciliation with their results, messages settled in the last
hour, and whether the shop, the ERP database and the WebAPI answered when last asked (with the last error).
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Reachability:
    ok: bool | None = None  # None: not asked yet
    since: float = 0.0  # when it became what it is
    checked: float = 0.0
    error: str = ""  # the last error seen (kept after it recovers, for a person)
    error_at: float = 0.0


@dataclass
class PassRun:
    running: bool = False
    started: float = 0.0
    finished: float = 0.0
    progress: dict[str, Any] = field(default_factory=dict)  # the pass's last progress report
    by: str = ""


class Activity:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.started = clock()
        self._lock = threading.Lock()
        self.hooks: dict[str, tuple[int, float, int]] = {}  # event name -> (erp id, received, count)
        self.reach: dict[str, Reachability] = {}
        self.passes: dict[str, PassRun] = {}
        self.last_poll = 0.0
        self.last_feed_read = 0.0  # the ERP's change feeds last read whole (0: never)
        self._settled: deque[tuple[float, str, str]] = deque()  # (when, entity, outcome), the last hour

    # -- hooks -----------------------------------------------------------------------------
    def hook(self, event: str, erp_id: int) -> None:
        with self._lock:
            count = self.hooks.get(event, (0, 0.0, 0))[2]
            self.hooks[event] = (erp_id, self.clock(), count + 1)

    def last_hook_at(self) -> float:
        with self._lock:
            return max((at for _, at, _ in self.hooks.values()), default=0.0)

    # -- reachability ----------------------------------------------------------------------
    def reached(self, side: str, ok: bool, error: str = "") -> None:
        now = self.clock()
        with self._lock:
            r = self.reach.setdefault(side, Reachability())
            if r.ok is not ok:
                r.ok, r.since = ok, now
            r.checked = now
            if error:
                r.error, r.error_at = error[:500], now

    def reachability(self) -> dict[str, Reachability]:
        with self._lock:
            return {k: Reachability(**vars(v)) for k, v in self.reach.items()}

    # -- passes (catch-up, reconciliation) ---------------------------------------------------------
    def pass_started(self, name: str, by: str = "") -> bool:
        """False when that pass is running already."""
        with self._lock:
            run = self.passes.get(name)
            if run is not None and run.running:
                return False
            self.passes[name] = PassRun(running=True, started=self.clock(), by=by)
            return True

    def pass_progress(self, name: str, progress: dict[str, Any]) -> None:
        with self._lock:
            run = self.passes.setdefault(name, PassRun(running=True, started=self.clock()))
            run.progress = dict(progress)
            if progress.get("done"):
                run.running, run.finished = False, self.clock()

    def pass_failed(self, name: str, error: str) -> None:
        with self._lock:
            run = self.passes.setdefault(name, PassRun())
            run.running, run.finished = False, self.clock()
            run.progress = {**run.progress, "error": error[:500]}

    def pass_run(self, name: str) -> PassRun | None:
        with self._lock:
            run = self.passes.get(name)
            return PassRun(**{**vars(run), "progress": dict(run.progress)}) if run else None

    def track(self, name: str, passes: Any, by: str = "") -> dict[str, Any]:
        """Run a pass (an iterator of progress reports) to its end, recording it; its last report."""
        if not self.pass_started(name, by):
            raise RuntimeError(f"the {name} is running already")
        last: dict[str, Any] = {}
        try:
            for last in passes:
                self.pass_progress(name, last)
        except Exception as exc:
            self.pass_failed(name, f"{type(exc).__name__}: {exc}")
            raise
        return last

    def recording(self, name: str, passes: Any, by: str = "") -> Any:
        """The pass's progress reports, passed on as they come and recorded (a pass asked for over the API or
        the command line shows on the console as the scheduled ones do)."""
        with self._lock:
            self.passes[name] = PassRun(running=True, started=self.clock(), by=by)
        try:
            for report in passes:
                self.pass_progress(name, report)
                yield report
        except Exception as exc:
            self.pass_failed(name, f"{type(exc).__name__}: {exc}")
            raise
        finally:
            with self._lock:
                run = self.passes.get(name)
                if run is not None and run.running:  # the caller stopped reading: it ended here
                    run.running, run.finished = False, self.clock()

    # -- throughput --------------------------------------------------------------------------------
    def settled(self, entity: str, outcome: str, n: int = 1) -> None:
        now = self.clock()
        with self._lock:
            self._settled.extend([(now, entity, outcome)] * n)
            while self._settled and self._settled[0][0] < now - 3600:
                self._settled.popleft()

    def last_hour(self) -> Counter[str]:
        now = self.clock()
        with self._lock:
            return Counter(outcome for at, _, outcome in self._settled if at >= now - 3600)

    def polled(self) -> None:
        self.last_poll = self.clock()

    def feeds_read(self) -> None:
        self.last_feed_read = self.clock()
