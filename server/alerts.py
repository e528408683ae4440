"""Alerts a person receives without watching: mail over SMTP and/or a JSON POST (chat webhooks).

Conditions, looked at every alerts.check_seconds:
- new dead letters (grouped: one message for 100, not 100);
- the shop, the ERP database or the WebAPI unreachable for longer than alerts.unreachable_minutes;
- no hook for alerts.no_hook_minutes during working hours (alerts.working_hours, e.g. Mon-Fri 08:00-16:00);
- the oldest waiting message older than alerts.oldest_message_minutes.
A condition that holds is said once, then at most every alerts.min_interval_minutes while it changes
(new dead letters meanwhile are grouped); when it ends, a "resolved" message follows. Each message links
to the console page where a person acts.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx


log = logging.getLogger(__name__)
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@dataclass
class Firing:
    since: float
    sent_at: float
    text: str


_HOURS = re.compile(r"^(?:(mon|tue|wed|thu|fri|sat|sun)(?:-(mon|tue|wed|thu|fri|sat|sun))?\s+)?"
                    r"([01]?\d|2[0-3]):([0-5]\d)-([01]?\d|2[0-4]):([0-5]\d)$")


def in_working_hours(spec: str, when: dt.datetime) -> bool:
    """`Mon-Fri 08:00-16:00` (days optional: every day); an empty spec is always."""
    spec = spec.strip().lower()
    if not spec:
        return True
    m = _HOURS.match(spec)
    if m is None:
        raise ValueError(f"alerts.working_hours {spec!r}: write e.g. \"Mon-Fri 08:00-16:00\"")
    first, last, h1, m1, h2, m2 = m.groups()
    if first:
        a, b = DAYS.index(first), DAYS.index(last or first)
        wd = when.weekday()
        if not (a <= wd <= b if a <= b else wd >= a or wd <= b):
            return False
    minute = when.hour * 60 + when.minute
    return int(h1) * 60 + int(m1) <= minute < int(h2) * 60 + int(m2)


def validate_working_hours(spec: str) -> None:
    in_working_hours(spec, dt.datetime(2026, 1, 5, 12, 0))


class Alerts(threading.Thread):
    def __init__(self, runtime: Any) -> None:
        super().__init__(name="alerts", daemon=True)
        self.rt = runtime
        self.s = runtime.settings.alerts
        self.firing: dict[str, Firing] = {}
        self.last_dead_seen = self._newest_dead_id()
        self.http = httpx.Client(timeout=10.0)

    @property
    def enabled(self) -> bool:
        return bool((self.s.smtp_host and self.s.mail_to) or self.s.webhook_url)

    def run(self) -> None:
        if not self.enabled:
            log.info("alerts are off (no alerts.smtp_host + alerts.mail_to, no alerts.webhook_url)")
            return
        while not self.rt.stopping.wait(self.s.check_seconds):
            try:
                self.check()
            except Exception:  # noqa: BLE001 - alerts must never take the server down
                log.exception("alert check failed")

    # -- conditions ------------------------------------------------------------------------------
    def check(self) -> None:
        now = self.rt.activity.clock()
        conditions: dict[str, str | None] = {}
        for side, r in self.rt.activity.reachability().items():
            down = r.ok is False and now - r.since >= self.s.unreachable_minutes * 60
            name = {"shop": "the shop", "erp": "the ERP"}.get(side, side)
            conditions[f"unreachable:{side}"] = (
                f"{name} has not answered for {int((now - r.since) // 60)} min (since "
                f"{_at(r.since)}): {r.error}" if down else None)
        if self.s.no_hook_minutes:
            last = self.rt.activity.last_hook_at() or self.rt.activity.started
            quiet = now - last >= self.s.no_hook_minutes * 60
            working = in_working_hours(self.s.working_hours, dt.datetime.fromtimestamp(now))
            conditions["no-hooks"] = (f"no hook from Symfonia for {int((now - last) // 60)} min during working hours: "
                                      "are the procedures on? (docs/symfonia.md, `shopsync hooks last`)"
                                      if quiet and working else None)
        stats = self.rt.store.stats()
        oldest = max((st.oldest_age_seconds for st in stats), default=0.0)
        conditions["oldest-message"] = (f"the oldest waiting message is {int(oldest // 60)} min old "
                                        f"({', '.join(f'{st.queue} {st.pending}' for st in stats if st.pending)})"
                                        if oldest >= self.s.oldest_message_minutes * 60 else None)
        if self.rt.settings.orders.invoice != "never":
            problems = self.rt.ksef_problems(now)
            conditions["ksef"] = (f"{len(problems)} order document(s) need a person in Symfonia (KSeF, refunds): "
                                  + "; ".join(problems[:5]) if problems else None)
        for key, text in conditions.items():
            self._update(key, text, now)
        self._dead_letters(now)
        log.debug("alerts looked: %s", ", ".join(sorted(self.firing)) or "nothing firing")

    def _update(self, key: str, text: str | None, now: float) -> None:
        firing = self.firing.get(key)
        if text is None:
            if firing is not None:
                del self.firing[key]
                self.send(key, "resolved", f"resolved: {firing.text.split(':')[0]} (since {_at(firing.since)})")
            return
        if firing is None:
            self.firing[key] = Firing(since=now, sent_at=now, text=text)
            self.send(key, "firing", text)
        else:
            firing.text = text

    def _dead_letters(self, now: float) -> None:
        firing = self.firing.get("dead-letters")
        if firing is not None and now - firing.sent_at < self.s.min_interval_minutes * 60:
            return  # grouped into the next message
        new = self.rt.store.dead_letters(after_id=self.last_dead_seen, limit=1000)
        if not new:
            if firing is not None and not self.rt.store.dead_letters(limit=1):
                del self.firing["dead-letters"]
                self.send("dead-letters", "resolved", "resolved: no dead letters are left")
            return
        self.last_dead_seen = new[-1].id
        reasons: dict[str, int] = {}
        for d in new:
            reasons[d.reason.split(":")[0][:80]] = reasons.get(d.reason.split(":")[0][:80], 0) + 1
        top = "; ".join(f"{n} x {r}" for r, n in sorted(reasons.items(), key=lambda x: -x[1])[:5])
        text = f"{len(new)}{'+' if len(new) == 1000 else ''} new dead letter(s) wait for a person: {top}"
        self.firing["dead-letters"] = Firing(since=firing.since if firing else now, sent_at=now, text=text)
        self.send("dead-letters", "firing", text)

    def _newest_dead_id(self) -> int:
        newest = 0
        while batch := self.rt.store.dead_letters(after_id=newest, limit=1000):
            newest = batch[-1].id
        return newest

    # -- sending -----------------------------------------------------------------------------------
    def link(self, key: str) -> str:
        c = self.rt.settings.console
        base = (c.public_url or f"http://{c.address}").rstrip("/")
        page = {"dead-letters": "/dead-letters"}.get(key, "/")
        return base + page

    def send(self, key: str, state: str, text: str) -> None:
        link = self.link(key)
        subject = f"[shopsync] {'RESOLVED' if state == 'resolved' else 'ALERT'}: {text[:120]}"
        log.warning("alert %s (%s): %s", key, state, text)
        if self.s.webhook_url:
            try:
                self.http.post(self.s.webhook_url, json={"text": f"{subject}\n{link}", "state": state,
                                                         "condition": key, "message": text, "link": link})
            except httpx.HTTPError as exc:
                log.warning("alert not delivered to alerts.webhook_url: %s", type(exc).__name__)
        if self.s.smtp_host and self.s.mail_to:
            mail = EmailMessage()
            mail["Subject"] = subject
            mail["From"] = self.s.mail_from or f"shopsync@{self.s.smtp_host}"
            mail["To"] = self.s.mail_to
            mail.set_content(f"{text}\n\nConsole: {link}\n")
            try:
                with smtplib.SMTP(self.s.smtp_host, self.s.smtp_port, timeout=15) as smtp:
                    if self.s.smtp_starttls:
                        smtp.starttls()
                    if self.s.smtp_user:
                        smtp.login(self.s.smtp_user, self.s.smtp_password)
                    smtp.send_message(mail)
            except (OSError, smtplib.SMTPException) as exc:
                log.warning("alert mail not delivered through %s: %s", self.s.smtp_host, type(exc).__name__)


def _at(t: float) -> str:
    return dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M")
