"""The operators' console (the console door): what the sync is doing and what waits for a person.

Server-rendered pages, no JavaScript: the overview and a running reconciliation refresh themselves.
Every action (retry or discard dead letters, pair or unpair a customer, send a product again, start a
reconciliation) goes through server/actions.py, the code the gRPC API runs, and is logged with the person.

Security: nothing but /login and /metrics is served without a login (console.user and an argon2
console.password_hash); no password set, no console. Session cookies are HttpOnly and SameSite=Strict
(Secure over TLS); every form carries a cross-site token (Flask-WTF); failed logins are limited per
address; every ERP or shop string is escaped by Jinja's autoescaping.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import threading
import time
import urllib.parse
from collections import defaultdict, deque
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import (Blueprint, Flask, Response, abort, current_app, flash, g, redirect, render_template, request,
                   session, url_for)
from flask_wtf.csrf import CSRFError, CSRFProtect
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shop_client.errors import ShopError
from shop_client.interface import VARIATION

from .. import actions
from ..nip import normalize_nip
from ..erp.errors import ErpError, ErpNotFound
from ..queue.bindings import Kind
from ..queue.pairings import PairingStatus
from ..queue.store import NotFound
from ..sync.customers import status_payload
from ..sync.families import family_id, family_of, family_states, parent_of
from ..sync.mappers import product_state
from ..sync.products import product_snapshots
from ..sync.orders import ProgressSent
from .doors import CONSOLE, at_door
from ..reasons import Reason, pairing_detail, reason_of, render
from ..sync.money import Ledger
from .i18n import LANGUAGES, translate

log = logging.getLogger("shopsync.console")
blueprint = Blueprint("console", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/static")
NEEDS_PERSON = [PairingStatus.NEEDS_PERSON, PairingStatus.INVALID_NIP, PairingStatus.NO_NIP]
PAGE = 50
_hasher = PasswordHasher()


def rt() -> Any:
    return current_app.config["shopsync.runtime"]


def hash_password(password: str) -> str:
    """The argon2 hash for console.password_hash."""
    return _hasher.hash(password)


# -- set-up ------------------------------------------------------------------------------------
def setup(app: Flask, runtime: Any) -> None:
    s = runtime.settings
    key = runtime.ctx.cursors.get("console.session_key")
    if not key:  # one key per queue database: sessions survive a restart and work on every server
        runtime.ctx.cursors.set("console.session_key", secrets.token_hex(32))
        key = runtime.ctx.cursors.get("console.session_key")
    app.config.update(SECRET_KEY=key, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                      SESSION_COOKIE_SECURE=bool(s.grpc.tls_cert and s.grpc.tls_key),
                      SESSION_COOKIE_NAME="shopsync_console", PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=10),
                      WTF_CSRF_TIME_LIMIT=None, WTF_CSRF_SSL_STRICT=False)
    csrf = CSRFProtect(app)
    from .intake import blueprint as intake_blueprint

    csrf.exempt(intake_blueprint)  # webhooks are signed by the shop, not sent from our forms
    app.config["shopsync.login_limiter"] = LoginLimiter(s.console.login_attempts_per_minute)
    # An unknown user name is checked against this, so it takes as long as the real one (names not guessable).
    app.config["shopsync.dummy_hash"] = _hasher.hash(secrets.token_hex(16))

    @app.after_request
    def security_headers(resp: Response) -> Response:
        """No framing, no sniffing, no script but our own files, no referrer off-site; signed-in pages not
        cached (a shared terminal's next user must not find them in the browser's cache)."""
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if session.get("user"):
            resp.headers["Cache-Control"] = "no-store"
        return resp

    @app.errorhandler(CSRFError)
    def csrf_refused(exc: CSRFError) -> tuple[str, int]:
        log.warning("console: a form without a valid cross-site token was refused (%s, from %s)", exc.description,
                    request.remote_addr)
        return render_template("message.html", text=t("The form has expired: try again."), back=request.path), 400

    @app.errorhandler(ErpNotFound)
    def not_in_the_erp(exc: ErpNotFound) -> tuple[str, int]:
        return render_template("message.html", text=reason_of(exc, side="ERP").text(language()),
                               back=request.referrer), 404

    @app.errorhandler(ErpError)
    @app.errorhandler(ShopError)
    def side_down(exc: Exception) -> tuple[str, int]:
        side = "ERP" if isinstance(exc, ErpError) else t("Shop")
        log.warning("console: %s: %s cannot be read now: %s", request.path, side, exc)
        return render_template("message.html", text=f"{side}: {exc}", back=request.referrer), 503

    @app.context_processor
    def helpers() -> dict[str, Any]:
        return {"t": t, "lang": language(), "ago": ago, "at": at, "user": session.get("user"), "shown": shown,
                "why": why, "detail": lambda text: pairing_detail(text or "", language()),
                "coded": lambda c: Reason.from_json(c).text(language()) if isinstance(c, dict) else str(c)}


GROSZ = Decimal("0.01")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class LoginLimiter:
    """Failed logins per (user name, address): past `per_minute` failures, each further attempt waits twice
    as long as the last (2 s, 4 s, ... up to 15 minutes; failures are forgotten after 15 minutes). Kept per
    name, so a burst of wrong names from one address (a terminal server's users all share it) never locks the
    real user out."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self.lock = threading.Lock()

    def wait(self, user: str, address: str) -> float:
        """Seconds this name from this address must still wait before a try counts (0: go ahead)."""
        now = time.monotonic()
        with self.lock:
            q = self.failures[(user.casefold()[:100], address)]
            while q and q[0] < now - 900:  # failures are forgotten after a quarter of an hour
                q.popleft()
            if len(q) < self.per_minute:
                return 0.0
            delay = min(900.0, 2.0 ** (len(q) - self.per_minute + 1))  # 2 s, 4 s, 8 s ... after the limit
            return max(0.0, q[-1] + delay - now)

    def failed(self, user: str, address: str) -> None:
        with self.lock:
            self.failures[(user.casefold()[:100], address)].append(time.monotonic())


# -- language and formatting ----------------------------------------------------------------------
def language() -> str:
    if "lang" not in g:
        chosen = request.cookies.get("lang")
        g.lang = chosen if chosen in LANGUAGES else (request.accept_languages.best_match(LANGUAGES) or "en")
    return g.lang


def t(text: str) -> str:
    return translate(language(), text)


def why(row: Any) -> str:
    """A message's reason in the page's language (its stored code), or its text as it was recorded."""
    return render(getattr(row, "why", None) if not isinstance(row, dict) else row.get("why"),
                  row["reason"] if isinstance(row, dict) else row.reason, language())


def at(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "—"


def shown(value: Any) -> str:
    """A value as a person reads it: yes/no, a category path with slashes, a dash for nothing."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "✔" if value else "✘"
    if isinstance(value, (list, tuple)):
        return " / ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def ago(ts: float) -> str:
    if not ts:
        return t("never")
    seconds = max(0, int(time.time() - ts))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


# -- who is there ------------------------------------------------------------------------------
def login_required(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not rt().settings.console.password_hash:
            return render_template("message.html", text="The console is off: set console.user and "
                                   "console.password_hash (`shopsync console hash-password`).", back=None), 503
        if not signed_in():
            session.clear()
            return redirect(url_for("console.login", next=request.full_path if request.args else request.path))
        return fn(*args, **kwargs)
    wrapper.door = CONSOLE  # type: ignore[attr-defined]
    return wrapper


def session_epoch(user: str) -> str:
    """What a signed-in session must still match: the user's logout count and the password hash it signed in
    under. Logging out (anywhere) or changing the password ends every session made before."""
    c = rt().settings.console
    count = rt().ctx.cursors.get(f"console.epoch.{user}") or "0"
    return f"{count}:{hashlib.sha256(c.password_hash.encode()).hexdigest()[:16]}"


def signed_in() -> bool:
    """The session's user is console.user and its epoch is current (a cookie signed with a leaked key still
    names a user; the name and the epoch are checked here)."""
    user = session.get("user")
    return bool(user) and hmac.compare_digest(str(user).encode(), rt().settings.console.user.encode()) and \
        hmac.compare_digest(str(session.get("epoch", "")).encode(), session_epoch(str(user)).encode())


def safe_target(target: str | None) -> str:
    """Where to go after a login or a language switch: one of the console's own paths, else the overview.
    Refused: another host (`//x`, `/\\x`), a scheme, control characters or backslashes (browsers read
    `/\t/evil` as `//evil`)."""
    target = target or ""
    if not target.startswith("/") or target.startswith("//") or "\\" in target or \
            any(ord(ch) < 0x20 or ord(ch) == 0x7f for ch in target):
        return "/"
    parts = urllib.parse.urlsplit(target)
    return target if not parts.scheme and not parts.netloc else "/"


def person() -> str:
    return f"{session.get('user')} (console, {request.remote_addr})"


@blueprint.route("/login", methods=["GET", "POST"])
@at_door(CONSOLE)
def login() -> Any:
    c = rt().settings.console
    limiter: LoginLimiter = current_app.config["shopsync.login_limiter"]
    error, status = "", 200
    if request.method == "POST":
        who = request.remote_addr or "?"
        user, password = request.form.get("user", ""), request.form.get("password", "")
        wait = limiter.wait(user, who)
        if wait > 0:
            log.warning("console: login for %r refused, too many attempts from %s", user[:40], who)
            error, status = t("Too many attempts: wait a minute."), 429
        else:
            known = hmac.compare_digest(user.encode(), c.user.encode())
            # an unknown name is checked against a dummy hash: as slow as the real one, so names cannot be timed
            good = _verify(password, c.password_hash if known else current_app.config["shopsync.dummy_hash"])
            if c.password_hash and known and good:
                session.clear()
                session["user"] = user
                session["epoch"] = session_epoch(user)
                session.permanent = True
                log.info("console: %s logged in from %s", user, who)
                return redirect(safe_target(request.args.get("next")))
            limiter.failed(user, who)
            log.warning("console: failed login for %r from %s", user[:40], who)
            error, status = t("Wrong user or password."), 401
    return render_template("login.html", error=error, off=not c.password_hash), status


def _verify(password: str, hashed: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


@blueprint.route("/logout", methods=["POST"])
@at_door(CONSOLE)
def logout() -> Any:
    user = session.get("user")
    if user and signed_in():  # every session of the user ends (this browser's and any copied cookie)
        count = int(rt().ctx.cursors.get(f"console.epoch.{user}") or "0")
        rt().ctx.cursors.set(f"console.epoch.{user}", str(count + 1))
        log.info("console: %s logged out", user)
    session.clear()
    return redirect(url_for("console.login"))


@blueprint.route("/lang/<code>")
@at_door(CONSOLE)
def switch_language(code: str) -> Any:
    resp = redirect(safe_target(request.args.get("back")))
    if code in LANGUAGES:
        resp.set_cookie("lang", code, max_age=365 * 86400, httponly=True, samesite="Strict")
    return resp


# -- /metrics --------------------------------------------------------------------------------------
@blueprint.route("/metrics")
@at_door(CONSOLE)
def metrics() -> Response:
    """Prometheus text format; no login from this machine, a bearer console.metrics_token from others."""
    token = rt().settings.console.metrics_token
    if not _loopback(request.remote_addr):
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not token or not hmac.compare_digest(given.encode(), token.encode()):
            return Response("metrics need Authorization: Bearer <console.metrics_token>\n", status=401,
                            content_type="text/plain; charset=utf-8")
    return Response(generate_latest(rt().metrics.registry), content_type=CONTENT_TYPE_LATEST)


def _loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


# -- overview --------------------------------------------------------------------------------------
@blueprint.route("/")
@login_required
def overview() -> str:
    r = rt()
    reach = r.activity.reachability()
    sides = [("shop", "Shop"), ("erp", "Symfonia WebAPI" if r.settings.erp.mode == "webapi" else "ERP database")]
    hooks = sorted(r.activity.hooks.items(), key=lambda kv: -kv[1][1])
    return render_template(
        "overview.html", reach=[(name, reach.get(side)) for side, name in sides], hooks=hooks,
        last_hook=r.activity.last_hook_at(), stats=r.store.stats(), last_hour=r.activity.last_hour(),
        poll_interval=r.settings.orders.poll_interval_seconds, last_poll=r.activity.last_poll,
        passes=[(name, r.activity.pass_run(key)) for key, name in (("catch-up", "catch-up"),
                                                                     ("reconciliation", "reconciliation"))],
        waiting_customers=r.ctx.pairings.count(NEEDS_PERSON), refresh=10)


# -- dead letters ------------------------------------------------------------------------------------
@blueprint.route("/dead-letters")
@login_required
def dead_letters() -> str:
    after = request.args.get("after", 0, type=int)
    letters = rt().store.dead_letters(after_id=after, limit=PAGE + 1)
    return render_template("dead_letters.html", letters=letters[:PAGE],
                           next_after=letters[PAGE - 1].id if len(letters) > PAGE else None, json=json)


@blueprint.route("/dead-letters/confirm", methods=["POST"])
@login_required
def dead_letters_confirm() -> Any:
    action = request.form.get("action", "")
    ids = sorted({int(i) for i in request.form.getlist("ids") if i.isdigit()})
    if action not in ("retry", "discard"):
        abort(400)
    if not ids:
        flash(t("Select at least one."))
        return redirect(url_for("console.dead_letters"))
    question = t("Retry these dead letters?") if action == "retry" else \
        t("Discard these dead letters? They are gone for good.")
    return render_template("confirm.html", question=question, target=url_for("console.dead_letters_apply"),
                           fields=[("action", action), *[("ids", str(i)) for i in ids]],
                           items=[f"#{i}" for i in ids], back=url_for("console.dead_letters"))


@blueprint.route("/dead-letters/apply", methods=["POST"])
@login_required
def dead_letters_apply() -> Any:
    action = request.form.get("action", "")
    done = []
    for raw in request.form.getlist("ids"):
        if not raw.isdigit():
            continue
        try:
            if action == "retry":
                actions.retry_dead_letter(rt().store, int(raw), actor=person())
            elif action == "discard":
                actions.discard_dead_letter(rt().store, int(raw), actor=person())
            done.append(raw)
        except NotFound:
            pass  # someone else settled it meanwhile
    flash(f"{len(done)} {t('queued again') if action == 'retry' else t('discarded')}")
    return redirect(url_for("console.dead_letters"))


# -- customers ---------------------------------------------------------------------------------------
@blueprint.route("/customers")
@login_required
def customers() -> str:
    after = request.args.get("after", 0, type=int)
    rows = rt().ctx.pairings.list(NEEDS_PERSON, after_id=after, limit=PAGE + 1)
    return render_template("customers.html", rows=rows[:PAGE],
                           next_after=rows[PAGE - 1].shop_customer_id if len(rows) > PAGE else None)


@blueprint.route("/customers/<int:customer_id>")
@login_required
def customer(customer_id: int) -> str:
    p = rt().ctx.pairings.get(customer_id)
    if p is None:
        abort(404)
    q = request.args.get("q", "").strip()[:100]
    found = rt().ctx.erp.search_contractors(q, 20) if q else []
    contractor = rt().ctx.erp.get_contractor(p.erp_contractor_id) if p.erp_contractor_id else None
    # the firms with the customer's NIP, each with a pair button, when a person must choose
    candidates = rt().ctx.erp.find_contractors_by_nip(p.nip) if p.nip and not p.paired else []
    return render_template("customer.html", p=p, q=q, found=found, contractor=contractor, candidates=candidates,
                           shows=status_payload(p, contractor.code if contractor else ""))


@blueprint.route("/customers/<int:customer_id>/pair", methods=["POST"])
@login_required
def customer_pair(customer_id: int) -> Any:
    contractor_id = request.form.get("contractor_id", 0, type=int)
    customer = rt().ctx.pairings.get(customer_id)
    if customer is None:
        abort(404)
    k = rt().ctx.erp.get_contractor(contractor_id)
    differs = bool(customer.nip) and normalize_nip(customer.nip) != normalize_nip(k.nip)
    if request.form.get("confirmed") != "yes" or (differs and request.form.get("nip_differs") != "yes"):
        tick = {"name": "nip_differs", "text": t("The NIPs differ") + f" ({customer.nip} ≠ {k.nip or '—'}): " +
                t("pair them all the same (the customer gets this firm's prices)")} if differs else None
        return render_template("confirm.html", question=t("Pair this customer with this contractor?"),
                               target=request.path, fields=[("contractor_id", str(contractor_id)),
                                                            ("confirmed", "yes")], tick=tick,
                               items=[f"{t('shop customer')} {customer_id} · NIP {customer.nip or '—'}",
                                      f"{k.code} · {k.name} · NIP {k.nip}"],
                               back=url_for("console.customer", customer_id=customer_id))
    if differs:
        log.warning("shop customer %s (NIP %s) is paired with contractor %s (NIP %s): the differing NIP was "
                    "confirmed by %s", customer_id, customer.nip, k.code, k.nip, person())
    p = actions.pair_customer(rt().ctx, customer_id, contractor_id, actor=person())
    flash(pairing_detail(p.detail, language()))
    return redirect(url_for("console.customer", customer_id=customer_id))


@blueprint.route("/customers/<int:customer_id>/unpair", methods=["POST"])
@login_required
def customer_unpair(customer_id: int) -> Any:
    if request.form.get("confirmed") != "yes":
        return render_template("confirm.html", question=t("Unpair this customer?"), target=request.path,
                               fields=[("confirmed", "yes")], items=[f"{t('shop customer')} {customer_id}"],
                               back=url_for("console.customer", customer_id=customer_id))
    actions.unpair_customer(rt().ctx, customer_id, actor=person())
    return redirect(url_for("console.customer", customer_id=customer_id))


# -- products ----------------------------------------------------------------------------------------
@blueprint.route("/products")
@login_required
def products() -> str:
    q = request.args.get("q", "").strip()[:100]
    ids = rt().ctx.erp.search_products(q, PAGE) if q else []
    found = rt().ctx.erp.get_products(ids) if ids else {}
    bound = rt().ctx.bindings.many(Kind.PRODUCT, ids) if ids else {}
    return render_template("products.html", q=q, rows=[found[i] for i in ids if i in found], bound=bound)


FIELDS = ("sku", "name", "stock", "price", "published", "category_path", "description", "image")


@blueprint.route("/products/<int:product_id>")
@login_required
def product(product_id: int) -> str:
    ctx = rt().ctx
    p = ctx.erp.get_products([product_id]).get(product_id)
    if p is None:
        abort(404)
    stock = ctx.erp.commercial_stock([product_id]).get(product_id, Decimal(0))
    erp_now = product_state(p, stock, ctx.erp.image_digests([product_id]).get(product_id),
                            ctx.erp.prices_for_products([product_id]).get(product_id, {}))
    b = ctx.bindings.get(Kind.PRODUCT, product_id)
    sent = dict(b.state) if b else {}
    fields, note = FIELDS, ""
    fam = family_of(ctx, p)
    if fam is not None or sent.get("family"):
        # A card of a family is a variation: its name, category and description are its variable product's.
        fields = FIELDS + ("family",)
        for snap in product_snapshots(ctx, [product_id]) if fam else []:
            made = parent_of(ctx, fam[0], family_states(ctx, fam[0], [snap]))  # type: ignore[index]
            erp_now = {**snap.state, **_family_face(made or {})}
        if fam is not None:
            erp_now["family"] = _family_label(*fam)
            if not fam[1]:
                note = Reason("variant.no_attributes", {"sku": p.code, "family": fam[0], "attributes": ", ".join(
                    ctx.settings.products.variant_attributes)}).text(language())
        if sent.get("family"):  # as last sent: the variable product's face, the card's options
            fb = ctx.bindings.get(Kind.FAMILY, family_id(sent["family"]))
            sent = {**sent, **_family_face(fb.state if fb else {}),
                    "family": _family_label(sent["family"], sent.get("attributes") or {})}
    shop, shop_error = None, ""
    if b is not None and b.shop_id:
        try:
            sp = ctx.shop.get_product(b.shop_id)
            shop = {"sku": sp.sku, "name": sp.name, "stock": sp.stock, "price": sp.price, "published": sp.published,
                    "category_path": list(sp.category_path), "description": sp.description, "image": sp.image_url}
            if sp.kind == VARIATION:
                parent = ctx.shop.get_product(sp.parent_id)
                shop.update({"name": parent.name, "category_path": list(parent.category_path),
                             "description": sp.description or parent.description,  # (only its own when it differs)
                             "family": _family_label(parent.sku, sp.attributes)})
        except Exception as exc:  # noqa: BLE001 - shown to the person, whatever the shop said
            shop_error = f"{type(exc).__name__}: {exc}"
    messages = rt().store.messages_for([f"product:{product_id}", f"shop_product:{b.shop_id}" if b else "-"])
    return render_template("product.html", p=p, fields=fields, erp=erp_now, sent=sent, note=note,
                           shop=shop, shop_error=shop_error, binding=b, messages=messages, json=json)


def _family_face(parent: dict[str, Any]) -> dict[str, Any]:
    """What a variation shows of its variable product (its name and category)."""
    return {k: parent[k] for k in ("name", "category_path") if k in parent}


def _family_label(value: str, attributes: Any) -> str:
    """"KOSZ-BASIC · Rozmiar M": a family and a variation's options."""
    return " · ".join([value, *(f"{k} {v}" for k, v in dict(attributes).items())])


@blueprint.route("/products/<int:product_id>/send-again", methods=["POST"])
@login_required
def product_send_again(product_id: int) -> Any:
    if request.form.get("confirmed") != "yes":
        return render_template("confirm.html", question=t("Send every field of this product to the shop again?"),
                               target=request.path, fields=[("confirmed", "yes")], items=[f"#{product_id}"],
                               back=url_for("console.product", product_id=product_id))
    queued = actions.send_product_again(rt().ctx, product_id, actor=person())
    flash(t("queued for the shop") if queued else t("not in the shop"))
    return redirect(url_for("console.product", product_id=product_id))


# -- orders -----------------------------------------------------------------------------------------
def _order_rows(bindings: list[Any]) -> list[dict[str, Any]]:
    progress = rt().ctx.bindings.many(Kind.ORDER_PROGRESS, [b.erp_id for b in bindings])
    rows = []
    for b in bindings:
        info = ProgressSent.of(progress.get(b.erp_id)).info or {}
        rows.append({"erp_id": b.erp_id, "shop_id": b.shop_id, "number": b.state.get("number", ""),
                     "erp_number": info.get("number", ""), "state": info.get("state", ""),
                     "invoices": info.get("invoices", []), "buffered": info.get("buffered", False)})
    return rows


@blueprint.route("/orders")
@login_required
def orders() -> str:
    ctx = rt().ctx
    q = request.args.get("q", "").strip()[:40]
    before = request.args.get("before", 0, type=int)
    if q:
        zo = ctx.erp.find_order_by_shop_number(q)
        found = [ctx.bindings.get(Kind.ORDER, zo)] if zo else []
        if q.isdigit() and len(q) < 19:
            found += list(ctx.bindings.by_shop_ids(Kind.ORDER, [int(q)]).values())
        bindings = list({b.erp_id: b for b in found if b is not None}.values())
    else:
        bindings = ctx.bindings.recent(Kind.ORDER, before_erp_id=before, limit=PAGE + 1)
    more = len(bindings) > PAGE
    bindings = bindings[:PAGE]
    return render_template("orders.html", q=q, rows=_order_rows(bindings), failed=_failed_orders(q),
                           next_before=bindings[-1].erp_id if more and not q else None)


def _failed_orders(q: str) -> list[dict[str, Any]]:
    """Shop orders that did not reach the ERP (dead letters of the inbox's orders), with their reason."""
    out = []
    for d in rt().store.dead_letters(limit=500):
        if d.queue != "inbox" or not (d.entity_key or "").startswith("order:"):
            continue
        order = d.payload.get("order") if isinstance(d.payload.get("order"), dict) else {}
        number = str(order.get("number") or d.payload.get("number") or d.entity_key.split(":", 1)[1])
        if q and q != number:
            continue
        out.append({"id": d.id, "number": number, "reason": d.reason, "why": d.why, "dead_at": d.dead_at})
    return out


@blueprint.route("/orders/<int:erp_order_id>")
@login_required
def order(erp_order_id: int) -> str:
    ctx = rt().ctx
    b = ctx.bindings.get(Kind.ORDER, erp_order_id)
    if b is None:
        abort(404)
    record = ctx.erp.get_order(erp_order_id)
    progress = ctx.erp.order_progress([erp_order_id]).get(erp_order_id)
    messages = rt().store.messages_for([f"order:{b.shop_id}", f"order_status:{b.shop_id}"])
    ledger = Ledger.of(ctx.bindings.get(Kind.ORDER_MONEY, erp_order_id))
    return render_template("order.html", row=_order_rows([b])[0], record=record, progress=progress,
                           messages=messages, json=json, lines=_order_lines(record), ledger=ledger,
                           documents=ledger.docs())


@blueprint.route("/orders/<int:erp_order_id>/refund-corrected", methods=["POST"])
@login_required
def order_refund_corrected(erp_order_id: int) -> Any:
    refund = request.form.get("refund", 0, type=int)
    if request.form.get("confirmed") != "yes":
        return render_template("confirm.html", question=t("Has this refund been corrected in Symfonia by hand?"),
                               target=request.path, fields=[("confirmed", "yes"), ("refund", str(refund))],
                               items=[f"{t('refund')} {refund}"],
                               back=url_for("console.order", erp_order_id=erp_order_id))
    done = actions.refund_corrected_by_hand(rt().ctx, erp_order_id, refund, actor=person())
    flash(t("marked corrected by hand") if done else t("nothing to mark"))
    return redirect(url_for("console.order", erp_order_id=erp_order_id))


def _order_lines(record: Any) -> list[dict[str, Any]]:
    """An ERP order's lines as a person reads them: the product's code and name, the quantity, the net unit
    price and the line's net value, to the grosz."""
    products = rt().ctx.erp.get_products(sorted({pid for pid, _, _ in record.lines}))
    out = []
    for pid, qty, price in record.lines:
        p = products.get(pid)
        out.append({"id": pid, "code": p.code if p else f"#{pid}", "name": p.name if p else "",
                    "quantity": qty.normalize() if qty == qty.to_integral_value() else qty,
                    "price": price.quantize(GROSZ, rounding=ROUND_HALF_UP),
                    "value": (qty * price).quantize(GROSZ, rounding=ROUND_HALF_UP)})
    return out


# -- reconciliation -----------------------------------------------------------------------------------
@blueprint.route("/reconciliation", methods=["GET", "POST"])
@login_required
def reconciliation() -> Any:
    r = rt()
    if request.method == "POST":
        if request.form.get("confirmed") != "yes":
            return render_template("confirm.html", question=t(
                "Compare what the shop really holds with the ERP and correct the difference?"), target=request.path,
                fields=[("confirmed", "yes")], items=[], back=url_for("console.reconciliation"))
        if not actions.start_reconciliation(r, actor=person()):
            flash(t("A reconciliation is running already."))
        return redirect(url_for("console.reconciliation"))
    run = r.activity.pass_run("reconciliation")
    return render_template("reconciliation.html", run=run, refresh=2 if run and run.running else None)
