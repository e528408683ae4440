"""A demo Symfonia company database, and an ERP simulator that acts in it.

This module plays the ERP itself, not the integration: it creates the tables of
../shared/reference/symfonia-handel.md, does what Symfonia does to them (a
reservation lowers stanHandl, an approved PZ line raises stan and stanHandl,
deleting a reservation gives the quantity back; here as database triggers), and
performs a Symfonia user's actions (save an item card, edit a note, give or take
the marker, approve a PZ, add or delete a reservation, change a price list, set
or delete an image). The integration's own SQL is in gateway.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence

import pyodbc

from . import data as demo_data
from shopsync.server.erp.sql.dialects import Dialect, make_dialect, sqlite_companion
from shopsync.server.erp.sql import PO_ORDER_SALE, PO_ORDER_WAREHOUSE, ZO_BAZA
from shopsync.server.erp.errors import ErpNotFound, ErpPermanent
from shopsync.server.erp.records import MarkerSource

KSEF_PENDING, KSEF_APPROVED, KSEF_REJECTED = 50, 60, 70  # enumKSeFInvoiceStatus
# The demo's own links (HM.PO typ) beside an order's documents: a sale document's corrections, and a
# correction's warehouse document.
PO_CORRECTION, PO_CORRECTION_WAREHOUSE = 90, 91

_TABLES = [
    ("HM.XT", "id {pk}, super int NULL, kod varchar(20), nazwa varchar(100)"),
    ("HM.TW", "id {pk}, kod varchar(40) NOT NULL, nazwa varchar(100) NOT NULL, kodpaskowy varchar(150), "
              "jm varchar(8), vatsp int, katalog int NULL, znacznik smallint DEFAULT 0, aktywny smallint DEFAULT 1, "
              "modifiedDate {ts}"),
    ("HM.NT", "id {pk}, super int NOT NULL, baza int NOT NULL, typ int DEFAULT 0, subtyp int DEFAULT 0, opis {text}"),
    ("HM.SM", "id {pk}, idtw int NOT NULL, magazyn int NOT NULL, stan numeric(18,4) DEFAULT 0, "
              "stanHandl numeric(18,4) DEFAULT 0"),
    ("HM.RZ", "id {pk}, idtw int NOT NULL, idkh int NULL, magazyn int NOT NULL, iddokrz int NULL, "
              "bazadokrz int NULL, iloscrz numeric(18,4) NOT NULL, iloscrl numeric(18,4) DEFAULT 0, "
              "data {ts}, termin {ts}"),
    ("HM.MG", "id {pk}, kod varchar(40), seria varchar(20), typ_dk varchar(5), data {ts}, khid int NULL, "
              "magazyn int, bufor smallint DEFAULT 0, anulowany smallint DEFAULT 0"),
    ("HM.MZ", "id {pk}, super int NOT NULL, idtw int NOT NULL, ilosc numeric(18,4) NOT NULL, cena numeric(18,4), "
              "magazyn int NOT NULL, bufor smallint DEFAULT 0, przychod smallint DEFAULT 0, "
              "rozchod smallint DEFAULT 0"),
    ("HM.ZO", "id {pk}, kod varchar(40), seria varchar(20), typ_dk varchar(5), data {ts}, khid int NOT NULL, "
              "khadid int NULL, odid int NULL, magazyn int, waluta varchar(3), kurs numeric(18,6), "
              "netto numeric(18,2), vat numeric(18,2), bufor smallint DEFAULT 0, anulowany smallint DEFAULT 0, "
              "opis varchar(500), kod_obcy varchar(40), guid varchar(40), modifiedDate {ts}, "
              "brutto smallint DEFAULT 0"),
    ("HM.ZP", "id {pk}, super int NOT NULL, lp int NOT NULL, idtw int NOT NULL, kod varchar(40), "
              "ilosc numeric(18,4) NOT NULL CHECK (ilosc > 0), jm varchar(8), cena numeric(18,4), "
              "cenawal numeric(18,4), wartNetto numeric(18,2), wartVat numeric(18,2), stvat int, magazyn int, "
              "waluta varchar(3)"),
    ("HM.KH", "id {pk}, kod varchar(40) NOT NULL, nazwa varchar(150) NOT NULL, nip varchar(20), regon varchar(20), "
              "pesel varchar(11), ulica varchar(60), dom varchar(10), lokal varchar(10), kodpocz varchar(10), "
              "miejscowosc varchar(60), email varchar(100), tel1 varchar(30), katalog int NULL, grupacen int NULL, "
              "znacznik smallint DEFAULT 0, aktywny smallint DEFAULT 1, modifiedDate {ts}"),
    ("HM.AD", "id {pk}, idkh int NOT NULL, nazwaAdr varchar(40), nazwa varchar(150), ulica varchar(60), "
              "dom varchar(10), lokal varchar(10), kodpocz varchar(10), miejscowosc varchar(60), nip varchar(20), "
              "idKraju varchar(3)"),
    ("HM.CK", "id {pk}, kod varchar(40) NOT NULL, opis varchar(200), dataod {ts}, datado {ts}, "
              "aktywny smallint DEFAULT 1, kontrah smallint DEFAULT 0, cenowy smallint DEFAULT 0"),
    ("HM.CP", "id {pk}, idck int NOT NULL, idpoz int NOT NULL, bazapoz int DEFAULT 1, kod varchar(40), "
              "cena numeric(18,4) NOT NULL, waluta varchar(3)"),
    ("HM.KP", "id {pk}, idck int NOT NULL, idpd int NOT NULL, typpd int NOT NULL"),
    # Sale documents (invoices FVS...) and the links between documents (our reading of HM.PO).
    ("HM.DK", "id {pk}, kod varchar(40), kod_obcy varchar(40), typ_dk varchar(5), seria varchar(5), "
              "serianr int, bufor smallint DEFAULT 0, anulowany smallint DEFAULT 0, data {ts}, khid int NULL, "
              "magazyn int, netto numeric(18,2), vat numeric(18,2), waluta varchar(3), opis varchar(80), "
              "modifiedDate {ts}, brutto smallint DEFAULT 0"),
    ("HM.DP", "id {pk}, super int NOT NULL, lp int, idtw int NOT NULL, kod varchar(40), ilosc numeric(18,4), "
              "cena numeric(18,4), wartNetto numeric(18,2), wartVat numeric(18,2) DEFAULT 0, magazyn int, "
              "bufor smallint DEFAULT 0"),
    ("HM.PO", "id {pk}, id1 int NOT NULL, id2 int NOT NULL, typ int NOT NULL"),
    # The demo's own record of what Symfonia's KSeF module and finance books keep (their real tables are not
    # public): a sale document's KSeF status (enumKSeFInvoiceStatus) and number, and payments of documents.
    ("HM.KSEF", "id {pk}, dk int NOT NULL, status int, numer varchar(60), data {ts}, wyslano {ts}"),
    ("HM.WPL", "id {pk}, kod varchar(40), dk int NOT NULL, khid int NULL, kwota numeric(18,2), waluta varchar(3), "
               "rejestr varchar(20), data {ts}"),
    # The integration's own table (created by its install step on a real site).
    ("HM.ShopsyncImages", "idtw int PRIMARY KEY, filename varchar(200), content_type varchar(100), "
                          "data {blob}, sha256 varchar(64), modifiedDate {ts}"),
]
_INDEXES = [
    "CREATE UNIQUE INDEX {s}tw_kod ON {t}TW (kod)",
    "CREATE UNIQUE INDEX {s}sm_tw_mag ON {t}SM (idtw, magazyn)",
    "CREATE INDEX {s}nt_super ON {t}NT (super, baza)",
    "CREATE INDEX {s}zo_obcy ON {t}ZO (kod_obcy)",
    "CREATE INDEX {s}zp_super ON {t}ZP (super)",
    "CREATE INDEX {s}rz_dok ON {t}RZ (iddokrz, bazadokrz)",
    "CREATE INDEX {s}cp_ck ON {t}CP (idck, idpoz)",
    "CREATE INDEX {s}tw_mod ON {t}TW (modifiedDate)",
    "CREATE INDEX {s}po_id1 ON {t}PO (id1, typ)",
    "CREATE INDEX {s}po_id2 ON {t}PO (id2, typ)",
    "CREATE INDEX {s}dp_super ON {t}DP (super)",
    "CREATE INDEX {s}mz_super ON {t}MZ (super)",
]

_SQLITE_TRIGGERS = [
    """CREATE TRIGGER HM.rz_reserve AFTER INSERT ON RZ BEGIN
         INSERT OR IGNORE INTO SM (idtw, magazyn, stan, stanHandl) VALUES (NEW.idtw, NEW.magazyn, 0, 0);
         UPDATE SM SET stanHandl = stanHandl - (NEW.iloscrz - NEW.iloscrl)
          WHERE idtw = NEW.idtw AND magazyn = NEW.magazyn; END""",
    """CREATE TRIGGER HM.rz_release AFTER DELETE ON RZ BEGIN
         UPDATE SM SET stanHandl = stanHandl + (OLD.iloscrz - OLD.iloscrl)
          WHERE idtw = OLD.idtw AND magazyn = OLD.magazyn; END""",
    # Realising a reservation (goods issued against it) frees what was reserved.
    """CREATE TRIGGER HM.rz_realise AFTER UPDATE OF iloscrz, iloscrl ON RZ BEGIN
         UPDATE SM SET stanHandl = stanHandl + (OLD.iloscrz - OLD.iloscrl) - (NEW.iloscrz - NEW.iloscrl)
          WHERE idtw = NEW.idtw AND magazyn = NEW.magazyn; END""",
    """CREATE TRIGGER HM.mz_book AFTER INSERT ON MZ WHEN NEW.bufor = 0 BEGIN
         INSERT OR IGNORE INTO SM (idtw, magazyn, stan, stanHandl) VALUES (NEW.idtw, NEW.magazyn, 0, 0);
         UPDATE SM SET stan = stan + NEW.ilosc * (NEW.przychod - NEW.rozchod),
                       stanHandl = stanHandl + NEW.ilosc * (NEW.przychod - NEW.rozchod)
          WHERE idtw = NEW.idtw AND magazyn = NEW.magazyn; END""",
    # A line in the buffer is booked when its document is issued.
    """CREATE TRIGGER HM.mz_issue AFTER UPDATE OF bufor ON MZ WHEN OLD.bufor = 1 AND NEW.bufor = 0 BEGIN
         INSERT OR IGNORE INTO SM (idtw, magazyn, stan, stanHandl) VALUES (NEW.idtw, NEW.magazyn, 0, 0);
         UPDATE SM SET stan = stan + NEW.ilosc * (NEW.przychod - NEW.rozchod),
                       stanHandl = stanHandl + NEW.ilosc * (NEW.przychod - NEW.rozchod)
          WHERE idtw = NEW.idtw AND magazyn = NEW.magazyn; END""",
]
_PG_TRIGGERS = [
    """CREATE FUNCTION hm.rz_reserve() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
         IF TG_OP = 'INSERT' THEN
           INSERT INTO hm.sm (idtw, magazyn, stan, stanhandl) VALUES (NEW.idtw, NEW.magazyn, 0, 0)
             ON CONFLICT (idtw, magazyn) DO NOTHING;
           UPDATE hm.sm SET stanhandl = stanhandl - (NEW.iloscrz - NEW.iloscrl)
             WHERE idtw = NEW.idtw AND magazyn = NEW.magazyn;
           RETURN NEW;
         END IF;
         IF TG_OP = 'UPDATE' THEN
           UPDATE hm.sm SET stanhandl = stanhandl + (OLD.iloscrz - OLD.iloscrl) - (NEW.iloscrz - NEW.iloscrl)
             WHERE idtw = NEW.idtw AND magazyn = NEW.magazyn;
           RETURN NEW;
         END IF;
         UPDATE hm.sm SET stanhandl = stanhandl + (OLD.iloscrz - OLD.iloscrl)
           WHERE idtw = OLD.idtw AND magazyn = OLD.magazyn;
         RETURN OLD; END $$""",
    "CREATE TRIGGER rz_reserve AFTER INSERT OR DELETE OR UPDATE ON hm.rz FOR EACH ROW EXECUTE FUNCTION "
    "hm.rz_reserve()",
    """CREATE FUNCTION hm.mz_book() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
         IF NEW.bufor = 0 THEN
           INSERT INTO hm.sm (idtw, magazyn, stan, stanhandl) VALUES (NEW.idtw, NEW.magazyn, 0, 0)
             ON CONFLICT (idtw, magazyn) DO NOTHING;
           UPDATE hm.sm SET stan = stan + NEW.ilosc * (NEW.przychod - NEW.rozchod),
                            stanhandl = stanhandl + NEW.ilosc * (NEW.przychod - NEW.rozchod)
             WHERE idtw = NEW.idtw AND magazyn = NEW.magazyn;
         END IF;
         RETURN NEW; END $$""",
    "CREATE TRIGGER mz_book AFTER INSERT ON hm.mz FOR EACH ROW EXECUTE FUNCTION hm.mz_book()",
    # A line in the buffer is booked when its document is issued.
    "CREATE TRIGGER mz_issue AFTER UPDATE OF bufor ON hm.mz FOR EACH ROW WHEN (OLD.bufor = 1 AND NEW.bufor = 0) "
    "EXECUTE FUNCTION hm.mz_book()",
]


def _ddl(dialect: str) -> list[str]:
    if dialect == "sqlite":
        types = {"pk": "INTEGER PRIMARY KEY AUTOINCREMENT", "ts": "datetime", "text": "text", "blob": "blob"}
    else:
        types = {"pk": "SERIAL PRIMARY KEY", "ts": "timestamp", "text": "text", "blob": "bytea"}
    out = [] if dialect == "sqlite" else ["CREATE SCHEMA IF NOT EXISTS hm", "CREATE SCHEMA IF NOT EXISTS sscommon"]
    out += [f"CREATE TABLE {t} ({cols.format(**types)})" for t, cols in _TABLES]
    return out


def create_schema(conn: pyodbc.Connection, dialect: str, marker_feature: str = "Sklep") -> None:
    """Create the demo company's tables (and the ERP's behaviour as triggers)."""
    cur = conn.cursor()
    for stmt in _ddl(dialect):
        cur.execute(stmt)
    cur.execute(f"CREATE TABLE SSCommon.ProductClassification (ElementId int PRIMARY KEY, "
                f"CDim_{marker_feature}_Val varchar(40))")
    for stmt in _INDEXES:
        if dialect == "sqlite":
            cur.execute(stmt.format(s="HM.", t=""))
        else:
            cur.execute(stmt.format(s="", t="HM."))
    for stmt in (_SQLITE_TRIGGERS if dialect == "sqlite" else _PG_TRIGGERS):
        cur.execute(stmt)
    conn.commit()


def _ins(d: Dialect, cur: pyodbc.Cursor, table: str, **values: Any) -> int:
    return d.insert(cur, table, values)


def seed(conn: pyodbc.Connection, dialect: Dialect, *, product_count: int = 300,
         marker_feature: str = "Sklep", marker_value: str = "TAK", note_baza: int = 1, family: bool = False) -> None:
    """Fill the demo company with groups, products, notes, stock, contractors and price lists.

    Products sold online carry both flags a site may agree on: the native marker DEMO_MARKER
    (HM.TW.znacznik, erp.marker = "marker:1") and the feature Sklep = TAK ("feature:Sklep=TAK").
    """
    cur = conn.cursor()
    now = dt.datetime.now().replace(microsecond=0)
    groups: dict[tuple[str, ...], int] = {}
    for top, subs in demo_data.GROUPS.items():
        groups[(top,)] = _ins(dialect, cur, "HM.XT", super=None, kod=top[:20], nazwa=top)
        for sub in subs:
            groups[(top, sub)] = _ins(dialect, cur, "HM.XT", super=groups[(top,)], kod=sub[:20], nazwa=sub)
    base = _ins(dialect, cur, "HM.CK", kod="DETAL", opis="Cennik detaliczny", aktywny=1, kontrah=0, cenowy=1,
                dataod=now, datado=None)
    hurt = _ins(dialect, cur, "HM.CK", kod="HURT", opis="Cennik hurtowy (grupa cenowa 1)", aktywny=1, kontrah=0,
                cenowy=0, dataod=now, datado=None)
    _ins(dialect, cur, "HM.KP", idck=hurt, idpd=1, typpd=2)
    products = demo_data.products(product_count)
    ids: list[int] = []
    for p in products:
        pid = _ins(dialect, cur, "HM.TW", kod=p.code, nazwa=p.name, kodpaskowy=p.ean, jm="szt.", vatsp=p.vat,
                   katalog=groups[p.group], znacznik=DEMO_MARKER if p.marked else 0, aktywny=1, modifiedDate=now)
        ids.append(pid)
        cur.execute(f"INSERT INTO SSCommon.ProductClassification (ElementId, CDim_{marker_feature}_Val) "
                    "VALUES (?, ?)", pid, marker_value if p.marked else "NIE")
        if p.note:
            _ins(dialect, cur, "HM.NT", super=pid, baza=note_baza, typ=0, subtyp=0, opis=p.note)
        for w, qty in ((1, p.stock[0]), (2, p.stock[1])):
            _ins(dialect, cur, "HM.SM", idtw=pid, magazyn=w, stan=qty, stanHandl=qty)
        _ins(dialect, cur, "HM.CP", idck=base, idpoz=pid, bazapoz=1, kod=p.code, cena=p.price, waluta="PLN")
        if pid % 2 == 0:
            _ins(dialect, cur, "HM.CP", idck=hurt, idpoz=pid, bazapoz=1, kod=p.code,
                 cena=(p.price * Decimal("0.85")).quantize(Decimal("0.01")), waluta="PLN")
    for i, c in enumerate(demo_data.contractors(), start=1):
        kid = _ins(dialect, cur, "HM.KH", kod=c.code, nazwa=c.name, nip=c.nip_typed, ulica=c.street, dom=c.house,
                   lokal="", kodpocz=c.postcode, miejscowosc=c.city, email=c.email, tel1=c.phone,
                   grupacen=c.price_group, znacznik=0, aktywny=1, modifiedDate=now)
        _ins(dialect, cur, "HM.AD", idkh=kid, nazwaAdr="Główny", nazwa=c.name, ulica=c.street, dom=c.house,
             lokal="", kodpocz=c.postcode, miejscowosc=c.city, nip=c.nip_typed, idKraju="PL")
        if i in (3, 7):
            own = _ins(dialect, cur, "HM.CK", kod=f"IND-{c.code}", opis=f"Cennik indywidualny {c.name}",
                       aktywny=1, kontrah=1, cenowy=0, dataod=now, datado=None)
            _ins(dialect, cur, "HM.KP", idck=own, idpd=kid, typpd=1)
            for pid, p in list(zip(ids, products))[i::25]:
                _ins(dialect, cur, "HM.CP", idck=own, idpoz=pid, bazapoz=1, kod=p.code,
                     cena=(p.price * Decimal("0.80")).quantize(Decimal("0.01")), waluta="PLN")
    # Services for the shipping and fee lines of shop orders (orders.shipping_code / fee_code); not sold online.
    for code, name in demo_data.SERVICES:
        sid = _ins(dialect, cur, "HM.TW", kod=code, nazwa=name, kodpaskowy="", jm="usł.", vatsp=23, katalog=None,
                   znacznik=0, aktywny=1, modifiedDate=now)
        cur.execute(f"INSERT INTO SSCommon.ProductClassification (ElementId, CDim_{marker_feature}_Val) "
                    "VALUES (?, ?)", sid, "NIE")
    if family:
        _seed_family(cur, dialect, groups, base, marker_feature, marker_value, note_baza, now)
    conn.commit()


FAMILY = "KOSZ-BASIC"  # the demo's family of sizes (products.variants_by = "feature:Rodzina")


def _seed_family(cur: pyodbc.Cursor, dialect: Dialect, groups: dict[tuple[str, ...], int], base: int,
                 marker_feature: str, marker_value: str, note_baza: int, now: dt.datetime) -> None:
    """A T-shirt in S, M and L: three cards of one family (feature Rodzina), told apart by the feature Rozmiar,
    as a Symfonia site keeps sizes (Handel has no variant object)."""
    for column in ("CDim_Rodzina_Val", "CDim_Rozmiar_Val"):
        cur.execute(f"ALTER TABLE SSCommon.ProductClassification ADD {column} varchar(40)")
    group = groups[sorted(groups)[0]]
    for n, (size, price, stock) in enumerate((("S", "49.00", 12), ("M", "49.00", 20), ("L", "52.00", 7))):
        code = f"{FAMILY}-{size}"
        pid = _ins(dialect, cur, "HM.TW", kod=code, nazwa=f"Koszulka Basic {size}", kodpaskowy=f"590000000{n:04d}",
                   jm="szt.", vatsp=23, katalog=group, znacznik=DEMO_MARKER, aktywny=1, modifiedDate=now)
        cur.execute(f"INSERT INTO SSCommon.ProductClassification (ElementId, CDim_{marker_feature}_Val, "
                    "CDim_Rodzina_Val, CDim_Rozmiar_Val) VALUES (?, ?, ?, ?)", pid, marker_value, FAMILY, size)
        _ins(dialect, cur, "HM.NT", super=pid, baza=note_baza, typ=0, subtyp=0,
             opis="Koszulka z bawełny organicznej, krój prosty.")
        _ins(dialect, cur, "HM.SM", idtw=pid, magazyn=1, stan=stock, stanHandl=stock)
        _ins(dialect, cur, "HM.SM", idtw=pid, magazyn=2, stan=0, stanHandl=0)
        _ins(dialect, cur, "HM.CP", idck=base, idpoz=pid, bazapoz=1, kod=code, cena=Decimal(price), waluta="PLN")


def init_sqlite_demo(path: Path, *, product_count: int = 300, marker_feature: str = "Sklep",
                     marker_value: str = "TAK", overwrite: bool = False, family: bool = False) -> Path:
    """Create a SQLite demo company at `path` (plus its SSCommon companion file)."""
    path = Path(path)
    companion = sqlite_companion(path)
    if path.exists() or companion.exists():
        if not overwrite:
            raise FileExistsError(f"{path} already exists (use --force to replace it)")
        for p in (path, companion, Path(str(path) + "-wal"), Path(str(path) + "-shm")):
            p.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = pyodbc.connect("Driver=SQLite3;Database=:memory:;", autocommit=True)
    conn.execute("ATTACH DATABASE ? AS HM", str(path))
    conn.execute("ATTACH DATABASE ? AS SSCommon", str(companion))
    conn.execute("PRAGMA HM.journal_mode=WAL").fetchall()
    conn.execute("PRAGMA SSCommon.journal_mode=WAL").fetchall()
    conn.autocommit = False
    create_schema(conn, "sqlite", marker_feature)
    seed(conn, make_dialect("sqlite"), product_count=product_count, marker_feature=marker_feature,
         marker_value=marker_value, family=family)
    conn.close()
    return path


def init_odbc_demo(conn_str: str, dialect_name: str, *, product_count: int = 300,
                   marker_feature: str = "Sklep", marker_value: str = "TAK", family: bool = False) -> None:
    """Create the demo company in an empty PostgreSQL database reached through ODBC."""
    dialect = make_dialect(dialect_name)
    conn = dialect.connect(conn_str)
    create_schema(conn, dialect_name, marker_feature)
    seed(conn, dialect, product_count=product_count, marker_feature=marker_feature, marker_value=marker_value,
         family=family)
    conn.close()


DEMO_MARKER = 1  # the native marker number the demo company gives products sold online


class ErpSimulator:
    """Does what a Symfonia user does in the demo database, one action a transaction.

    Each action returns the hook event and id that Symfonia's automation would run.
    """

    def __init__(self, conn: pyodbc.Connection, dialect: Dialect, *, marker: str = f"marker:{DEMO_MARKER}",
                 note_baza: int = 1) -> None:
        """`marker`: the site's erp.marker, which `set_marker` gives and takes."""
        self.conn = conn
        self.d = dialect
        self.marker = MarkerSource.parse(marker)
        self.note_baza = note_baza

    @classmethod
    def from_settings(cls, settings: Any) -> "ErpSimulator":
        from shopsync.server.erp.sql import ErpGateway

        gw = ErpGateway.from_settings(settings)
        e = settings.erp
        return cls(gw.dialect.connect(gw.conn_str), gw.dialect, marker=e.marker, note_baza=e.note_baza)

    def close(self) -> None:
        self.conn.close()

    def _now(self) -> dt.datetime:
        return dt.datetime.now().replace(microsecond=0)

    def _need_product(self, cur: pyodbc.Cursor, product_id: int) -> None:
        if not cur.execute("SELECT id FROM HM.TW WHERE id = ?", product_id).fetchone():
            raise ErpNotFound(f"product id {product_id} is not in HM.TW")

    def transaction(self, fn: Any) -> Any:
        """Run fn(cursor) in one transaction of the demo ERP."""
        self.d.begin(self.conn)
        try:
            out = fn(self.conn.cursor())
            self.d.commit(self.conn)
            return out
        except BaseException:
            self.d.rollback(self.conn)
            raise

    def _catalog(self, cur: pyodbc.Cursor, path: Sequence[str]) -> int:
        """The product catalog (group) of this path, made where missing."""
        parent = None
        for g in path:
            row = cur.execute("SELECT id FROM HM.XT WHERE nazwa = ? AND " + ("super IS NULL" if parent is None
                                                                             else "super = ?"),
                              *([g] if parent is None else [g, parent])).fetchone()
            parent = row[0] if row else self.d.insert(cur, "HM.XT", {"super": parent, "kod": g[:20], "nazwa": g})
        return int(parent)

    def add_catalog(self, path: Sequence[str]) -> int:
        """A person makes a product catalog in Symfonia (Towary, Katalogi): its id."""
        return int(self.transaction(lambda cur: self._catalog(cur, path)))

    def save_item(self, product_id: int, *, name: str | None = None, ean: str | None = None,
                  group_path: Sequence[str] | None = None, vat: int | None = None) -> tuple[str, int]:
        """Save the item card (with or without edits: Symfonia stamps modifiedDate either way)."""
        def act(cur: pyodbc.Cursor) -> None:
            self._need_product(cur, product_id)
            if group_path:
                cur.execute("UPDATE HM.TW SET katalog = ? WHERE id = ?", self._catalog(cur, group_path), product_id)
            if name is not None:
                cur.execute("UPDATE HM.TW SET nazwa = ? WHERE id = ?", name, product_id)
            if ean is not None:
                cur.execute("UPDATE HM.TW SET kodpaskowy = ? WHERE id = ?", ean, product_id)
            if vat is not None:
                cur.execute("UPDATE HM.TW SET vatsp = ? WHERE id = ?", vat, product_id)
            cur.execute("UPDATE HM.TW SET modifiedDate = ? WHERE id = ?", self._now(), product_id)
        self.transaction(act)
        return "item-saved", product_id

    def set_feature(self, product_id: int, name: str, value: str) -> tuple[str, int]:
        """Give a card a feature's value (a size, a colour), the feature defined in the company first if it is
        new (a column CDim_<name>_Val of SSCommon.ProductClassification, as Symfonia keeps features)."""
        if not MarkerSource.feature_name_ok(name):
            raise ErpPermanent(f"feature name {name!r}: letters, digits and _ only (it becomes a column name)")
        column = f"CDim_{name}_Val"

        def act(cur: pyodbc.Cursor) -> None:
            self._need_product(cur, product_id)
            self._define_feature(cur, column)
            if cur.execute(f"UPDATE SSCommon.ProductClassification SET {column} = ? WHERE ElementId = ?", value,
                           product_id).rowcount == 0:
                cur.execute(f"INSERT INTO SSCommon.ProductClassification (ElementId, {column}) VALUES (?, ?)",
                            product_id, value)
            cur.execute("UPDATE HM.TW SET modifiedDate = ? WHERE id = ?", self._now(), product_id)
        self.transaction(act)
        return "item-saved", product_id

    def define_feature(self, name: str) -> None:
        """Define a feature in the company (Towary, Cechy) without giving any card a value of it."""
        if not MarkerSource.feature_name_ok(name):
            raise ErpPermanent(f"feature name {name!r}: letters, digits and _ only (it becomes a column name)")
        self.transaction(lambda cur: self._define_feature(cur, f"CDim_{name}_Val"))

    @staticmethod
    def _define_feature(cur: pyodbc.Cursor, column: str) -> None:
        have = [d[0] for d in cur.execute("SELECT * FROM SSCommon.ProductClassification WHERE 1 = 0").description]
        if column not in have:
            cur.execute(f"ALTER TABLE SSCommon.ProductClassification ADD {column} varchar(40)")

    def set_marker(self, product_id: int, on: bool) -> tuple[str, int]:
        """Give or take the site's agreed marker (erp.marker): the native marker number, or the feature's value."""
        def act(cur: pyodbc.Cursor) -> None:
            self._need_product(cur, product_id)
            if self.marker.native:
                cur.execute("UPDATE HM.TW SET znacznik = ? WHERE id = ?", self.marker.number if on else 0,
                            product_id)
            else:
                value = self.marker.value if on else "NIE"
                if cur.execute(f"UPDATE SSCommon.ProductClassification SET {self.marker.column} = ? "
                               "WHERE ElementId = ?", value, product_id).rowcount == 0:
                    cur.execute(f"INSERT INTO SSCommon.ProductClassification (ElementId, {self.marker.column}) "
                                "VALUES (?, ?)", product_id, value)
            cur.execute("UPDATE HM.TW SET modifiedDate = ? WHERE id = ?", self._now(), product_id)
        self.transaction(act)
        return "item-saved", product_id

    def edit_note(self, product_id: int, text: str) -> tuple[str, int]:
        def act(cur: pyodbc.Cursor) -> None:
            self._need_product(cur, product_id)
            if cur.execute("UPDATE HM.NT SET opis = ? WHERE super = ? AND baza = ?", text, product_id,
                           self.note_baza).rowcount == 0:
                self.d.insert(cur, "HM.NT", {"super": product_id, "baza": self.note_baza, "typ": 0,
                                             "subtyp": 0, "opis": text})
            cur.execute("UPDATE HM.TW SET modifiedDate = ? WHERE id = ?", self._now(), product_id)
        self.transaction(act)
        return "note-edited", product_id

    def approve_pz(self, product_id: int, quantity: Decimal | int, warehouse: int = 1,
                   price: Decimal | int = 0) -> tuple[str, int]:
        """A goods receipt PZ with one approved line (the ERP books the stock)."""
        def act(cur: pyodbc.Cursor) -> None:
            self._need_product(cur, product_id)
            mg = self.d.insert(cur, "HM.MG", {"kod": "", "seria": "PZ", "typ_dk": "PZ", "data": self._now(),
                                              "khid": None, "magazyn": warehouse, "bufor": 0, "anulowany": 0})
            cur.execute("UPDATE HM.MG SET kod = ? WHERE id = ?", f"PZ {mg}/{self._now().year}", mg)
            self.d.insert(cur, "HM.MZ", {"super": mg, "idtw": product_id, "ilosc": Decimal(quantity),
                                         "cena": Decimal(price), "magazyn": warehouse, "bufor": 0,
                                         "przychod": 1, "rozchod": 0})
        self.transaction(act)
        return "stock-changed", product_id

    def add_reservation(self, product_id: int, quantity: Decimal | int, warehouse: int = 1,
                        contractor_id: int | None = None) -> tuple[str, int, int]:
        def act(cur: pyodbc.Cursor) -> int:
            self._need_product(cur, product_id)
            return self.d.insert(cur, "HM.RZ", {"idtw": product_id, "idkh": contractor_id, "magazyn": warehouse,
                                                "iddokrz": None, "bazadokrz": None, "iloscrz": Decimal(quantity),
                                                "iloscrl": 0, "data": self._now(), "termin": None})
        rz = self.transaction(act)
        return "reservation-made", product_id, rz

    def delete_reservation(self, reservation_id: int) -> tuple[str, int]:
        def act(cur: pyodbc.Cursor) -> int:
            row = cur.execute("SELECT idtw FROM HM.RZ WHERE id = ?", reservation_id).fetchone()
            if row is None:
                raise ErpNotFound(f"reservation id {reservation_id} is not in HM.RZ")
            cur.execute("DELETE FROM HM.RZ WHERE id = ?", reservation_id)
            return int(row[0])
        return "reservation-made", self.transaction(act)

    def set_price(self, price_list_id: int, product_id: int, price: Decimal | None) -> tuple[str, int]:
        """Set (or with None, remove) one product's price on a price list."""
        def act(cur: pyodbc.Cursor) -> None:
            self._need_product(cur, product_id)
            if not cur.execute("SELECT id FROM HM.CK WHERE id = ?", price_list_id).fetchone():
                raise ErpNotFound(f"price list id {price_list_id} is not in HM.CK")
            if price is None:
                cur.execute("DELETE FROM HM.CP WHERE idck = ? AND idpoz = ?", price_list_id, product_id)
            elif cur.execute("UPDATE HM.CP SET cena = ? WHERE idck = ? AND idpoz = ?", Decimal(price),
                             price_list_id, product_id).rowcount == 0:
                kod = cur.execute("SELECT kod FROM HM.TW WHERE id = ?", product_id).fetchone()[0]
                self.d.insert(cur, "HM.CP", {"idck": price_list_id, "idpoz": product_id, "bazapoz": 1,
                                             "kod": kod, "cena": Decimal(price), "waluta": "PLN"})
        self.transaction(act)
        return "price-list-saved", price_list_id

    def price_list_id(self, code: str) -> int:
        row = self.transaction(lambda cur: cur.execute("SELECT id FROM HM.CK WHERE kod = ?", code).fetchone())
        if row is None:
            raise ErpNotFound(f"price list {code!r} is not in HM.CK")
        return int(row[0])

    def set_image(self, product_id: int, data: bytes, filename: str = "image.png",
                  content_type: str = "image/png") -> tuple[str, int]:
        def act(cur: pyodbc.Cursor) -> None:
            self._need_product(cur, product_id)
            cur.execute("DELETE FROM HM.ShopsyncImages WHERE idtw = ?", product_id)
            cur.execute("INSERT INTO HM.ShopsyncImages (idtw, filename, content_type, data, sha256, modifiedDate) "
                        "VALUES (?, ?, ?, ?, ?, ?)", product_id, filename, content_type, data,
                        hashlib.sha256(data).hexdigest(), self._now())
        self.transaction(act)
        return "image-changed", product_id

    def delete_image(self, product_id: int) -> tuple[str, int]:
        self.transaction(lambda cur: cur.execute("DELETE FROM HM.ShopsyncImages WHERE idtw = ?", product_id))
        return "image-changed", product_id

    def product_id(self, code: str) -> int:
        row = self.transaction(lambda cur: cur.execute("SELECT id FROM HM.TW WHERE kod = ?", code).fetchone())
        if row is None:
            raise ErpNotFound(f"product {code!r} is not in HM.TW")
        return int(row[0])

    # -- the order's life in the ERP (a Symfonia user's work, for the demo and tests) ------
    def _order_lines(self, cur: pyodbc.Cursor, order_id: int) -> list[tuple[int, int, Decimal, Decimal, int]]:
        """(reservation id, product id, reserved, realised, warehouse) of an order, or ErpNotFound."""
        head = cur.execute("SELECT bufor, seria FROM HM.ZO WHERE id = ?", order_id).fetchone()
        if head is None:
            raise ErpNotFound(f"customer order id {order_id} is not in HM.ZO")
        if int(head[0] or 0):
            # Realising or invoicing an order still in the buffer issues it first, as Symfonia does: it is
            # numbered in its series then.
            cur.execute("UPDATE HM.ZO SET bufor = 0, kod = ? WHERE id = ?",
                        f"ZMO {order_id}/{head[1] or 'sklep'}/{self._now().year}", order_id)
        rows = cur.execute("SELECT id, idtw, iloscrz, iloscrl, magazyn FROM HM.RZ WHERE iddokrz = ? AND bazadokrz = ? "
                           "ORDER BY id", order_id, ZO_BAZA).fetchall()
        return [(int(r[0]), int(r[1]), Decimal(str(r[2])), Decimal(str(r[3])), int(r[4])) for r in rows]

    def realise_order(self, order_id: int, *, partial: bool = False) -> tuple[str, int]:
        """Issue the goods of a customer order on a WZ (all of it, or half of each line when `partial`):
        stock goes down, the reservations are realised, the WZ is linked to the order."""
        def act(cur: pyodbc.Cursor) -> int:
            lines = [ln for ln in self._order_lines(cur, order_id) if ln[2] > ln[3]]
            if not lines:
                raise ErpPermanent(f"customer order {order_id} has nothing left to realise")
            mg = self.d.insert(cur, "HM.MG", {"kod": "", "seria": "WZ", "typ_dk": "WZ", "data": self._now(),
                                              "khid": None, "magazyn": lines[0][4], "bufor": 0, "anulowany": 0})
            cur.execute("UPDATE HM.MG SET kod = ? WHERE id = ?", f"WZ {mg}/{self._now().year}", mg)
            for rz, pid, reserved, realised, warehouse in lines:
                left = reserved - realised
                qty = max(Decimal(1), (left / 2).to_integral_value(rounding="ROUND_FLOOR")) if partial else left
                self.d.insert(cur, "HM.MZ", {"super": mg, "idtw": pid, "ilosc": qty, "cena": Decimal(0),
                                             "magazyn": warehouse, "bufor": 0, "przychod": 0, "rozchod": 1})
                cur.execute("UPDATE HM.RZ SET iloscrl = iloscrl + ? WHERE id = ?", qty, rz)
            self.d.insert(cur, "HM.PO", {"id1": order_id, "id2": mg, "typ": PO_ORDER_WAREHOUSE})
            return mg
        return "document-issued", self.transaction(act)

    def issue_invoice(self, order_id: int) -> tuple[str, int]:
        """Issue a sale invoice (FVS) from a customer order, numbered in its series, linked to the order."""
        def act(cur: pyodbc.Cursor) -> int:
            self._order_lines(cur, order_id)
            head = cur.execute("SELECT khid, magazyn, netto, vat, waluta, brutto FROM HM.ZO WHERE id = ?",
                               order_id).fetchone()
            year = self._now().year
            number = int(cur.execute("SELECT COUNT(*) FROM HM.DK WHERE typ_dk = 'FVS' AND seria = 'sFV'")
                         .fetchone()[0]) + 1
            dk = self.d.insert(cur, "HM.DK", {
                "kod": f"FV {number}/sFV/{year}", "kod_obcy": "", "typ_dk": "FVS", "seria": "sFV", "serianr": number,
                "bufor": 0, "anulowany": 0, "data": self._now(), "khid": head[0], "magazyn": head[1],
                "netto": head[2], "vat": head[3], "waluta": head[4], "opis": "", "modifiedDate": self._now(),
                "brutto": head[5] or 0})
            for lp, (pid, kod, qty, price, net, vat) in enumerate(cur.execute(
                    "SELECT idtw, kod, ilosc, cena, wartNetto, wartVat FROM HM.ZP WHERE super = ? ORDER BY lp",
                    order_id).fetchall(), 1):
                self.d.insert(cur, "HM.DP", {"super": dk, "lp": lp, "idtw": pid, "kod": kod, "ilosc": qty,
                                             "cena": price, "wartNetto": net if net is not None else
                                             Decimal(str(qty)) * Decimal(str(price)), "wartVat": vat or 0,
                                             "magazyn": head[1], "bufor": 0})
            self.d.insert(cur, "HM.PO", {"id1": order_id, "id2": dk, "typ": PO_ORDER_SALE})
            # An invoice goes to KSeF (since 2026): pending validation until KSeF numbers or rejects it.
            self.d.insert(cur, "HM.KSEF", {"dk": dk, "status": KSEF_PENDING, "numer": None, "data": None,
                                           "wyslano": self._now()})
            return dk
        return "document-issued", self.transaction(act)

    def ksef_verdict(self, document_id: int, accept: bool) -> tuple[str, int]:
        """KSeF's answer for an invoice: approved with its KSeF number, or rejected."""
        def act(cur: pyodbc.Cursor) -> None:
            row = cur.execute("SELECT k.id, dk.data FROM HM.KSEF k JOIN HM.DK dk ON dk.id = k.dk WHERE k.dk = ?",
                              document_id).fetchone()
            if row is None:
                raise ErpNotFound(f"document {document_id} is not an invoice sent to KSeF")
            if accept:
                day = str(row[1])[:10].replace("-", "")
                number = f"5260250995-{day}-{document_id:06X}-{(document_id * 7919) % 256:02X}"
                cur.execute("UPDATE HM.KSEF SET status = ?, numer = ?, data = ? WHERE id = ?", KSEF_APPROVED,
                            number, self._now(), row[0])
            else:
                cur.execute("UPDATE HM.KSEF SET status = ?, numer = NULL, data = ? WHERE id = ?", KSEF_REJECTED,
                            self._now(), row[0])
            cur.execute("UPDATE HM.DK SET modifiedDate = ? WHERE id = ?", self._now(), document_id)
        self.transaction(act)
        return "document-issued", document_id

    def ksef_due(self, delay_seconds: float) -> list[int]:
        """Invoices pending in KSeF longer than `delay_seconds`: KSeF approves them now (the simulator's clock)."""
        cutoff = self._now() - dt.timedelta(seconds=delay_seconds)
        rows = self.conn.cursor().execute("SELECT dk FROM HM.KSEF WHERE status = ? AND wyslano <= ?", KSEF_PENDING,
                                          cutoff).fetchall()
        for (dk,) in rows:
            self.ksef_verdict(int(dk), True)
        return [int(r[0]) for r in rows]

    def issue_receipt(self, order_id: int, *, type_code: str, shop_number: str,
                      lines: Sequence[tuple[int, str, Decimal, Decimal]]) -> int:
        """A receipt (paragon) for an order's goods: a sale document numbered in its type's series that issues
        the goods from the order's warehouse (its own warehouse issue, booked at once). `lines`: (product,
        code, quantity, gross value)."""
        def act(cur: pyodbc.Cursor) -> int:
            head = cur.execute("SELECT khid, magazyn, waluta FROM HM.ZO WHERE id = ?", order_id).fetchone()
            if head is None:
                raise ErpNotFound(f"order id {order_id} is not in HM.ZO")
            year = self._now().year
            number = int(cur.execute("SELECT COUNT(*) FROM HM.DK WHERE typ_dk = ?", type_code).fetchone()[0]) + 1
            split = []  # (product, code, quantity, net, vat) of each gross value, at the item's VAT rate
            for pid, code, qty, value in lines:
                rate = Decimal(int(cur.execute("SELECT vatsp FROM HM.TW WHERE id = ?", pid).fetchone()[0] or 0))
                vat = (value * rate / (100 + rate)).quantize(Decimal("0.01"))
                split.append((pid, code, qty, value - vat, vat))
            dk = self.d.insert(cur, "HM.DK", {
                "kod": f"{type_code} {number}/{year}", "kod_obcy": shop_number, "typ_dk": type_code, "seria": "",
                "serianr": number, "bufor": 0, "anulowany": 0, "data": self._now(), "khid": head[0],
                "magazyn": head[1], "netto": sum((s[3] for s in split), Decimal(0)),
                "vat": sum((s[4] for s in split), Decimal(0)), "waluta": head[2],
                "opis": "", "modifiedDate": self._now(), "brutto": 1})
            mg = self.d.insert(cur, "HM.MG", {"kod": f"WZ do {type_code} {number}/{year}", "seria": "WZ",
                                              "typ_dk": "WZ", "data": self._now(), "khid": head[0],
                                              "magazyn": head[1], "bufor": 0, "anulowany": 0})
            for lp, (pid, code, qty, net, vat) in enumerate(split, 1):
                self.d.insert(cur, "HM.DP", {"super": dk, "lp": lp, "idtw": pid, "kod": code, "ilosc": qty,
                                             "cena": (net / qty).quantize(Decimal("0.0001")) if qty else net,
                                             "wartNetto": net, "wartVat": vat, "magazyn": head[1], "bufor": 0})
                self.d.insert(cur, "HM.MZ", {"super": mg, "idtw": pid, "ilosc": qty, "cena": Decimal(0),
                                             "magazyn": head[1], "bufor": 0, "przychod": 0, "rozchod": 1})
            return dk
        return int(self.transaction(act))

    def issue_correction(self, master_id: int, *, type_code: str, reason: str,
                         changes: Sequence[tuple[int, Decimal, Decimal, Decimal]]) -> int:
        """A correction of a sale document: `changes` (master position lp, quantity after, net after, VAT after);
        the correction holds the differences (negative for a return), linked to its master (PO_CORRECTION)."""
        def act(cur: pyodbc.Cursor) -> int:
            head = cur.execute("SELECT khid, magazyn, waluta, kod, brutto FROM HM.DK WHERE id = ?",
                               master_id).fetchone()
            if head is None:
                raise ErpNotFound(f"document {master_id} is not in HM.DK")
            year = self._now().year
            number = int(cur.execute("SELECT COUNT(*) FROM HM.DK WHERE typ_dk = ?", type_code).fetchone()[0]) + 1
            rows = []
            for lp, qty, net, vat in changes:
                old = cur.execute("SELECT idtw, kod, ilosc, wartNetto, wartVat FROM HM.DP WHERE super = ? AND lp = ?",
                                  master_id, lp).fetchone()
                if old is None:
                    raise ErpPermanent(f"document {head[3]} has no position {lp}")
                rows.append((int(old[0]), old[1], qty - Decimal(str(old[2])), net - Decimal(str(old[3] or 0)),
                             vat - Decimal(str(old[4] or 0))))
            dk = self.d.insert(cur, "HM.DK", {
                "kod": f"{type_code} {number}/{year}", "kod_obcy": "", "typ_dk": type_code, "seria": "",
                "serianr": number, "bufor": 0, "anulowany": 0, "data": self._now(), "khid": head[0],
                "magazyn": head[1], "netto": sum((r[3] for r in rows), Decimal(0)),
                "vat": sum((r[4] for r in rows), Decimal(0)), "waluta": head[2], "opis": reason,
                "modifiedDate": self._now(), "brutto": head[4] or 0})
            for lp, (pid, code, dq, dn, dv) in enumerate(rows, 1):
                self.d.insert(cur, "HM.DP", {"super": dk, "lp": lp, "idtw": pid, "kod": code, "ilosc": dq,
                                             "cena": Decimal(0), "wartNetto": dn, "wartVat": dv, "magazyn": head[1],
                                             "bufor": 0})
            self.d.insert(cur, "HM.PO", {"id1": master_id, "id2": dk, "typ": PO_CORRECTION})
            if cur.execute("SELECT id FROM HM.KSEF WHERE dk = ?", master_id).fetchone():  # an invoice's: to KSeF too
                self.d.insert(cur, "HM.KSEF", {"dk": dk, "status": KSEF_PENDING, "numer": None, "data": None,
                                               "wyslano": self._now()})
            return dk
        return int(self.transaction(act))

    def return_goods(self, correction_id: int) -> int:
        """The warehouse side of a correction: what it takes back (negative quantities) comes back into stock
        on a warehouse correction document; once."""
        def act(cur: pyodbc.Cursor) -> int:
            done = cur.execute("SELECT id2 FROM HM.PO WHERE id1 = ? AND typ = ?", correction_id,
                               PO_CORRECTION_WAREHOUSE).fetchone()
            if done is not None:
                return int(done[0])
            head = cur.execute("SELECT khid, magazyn, kod FROM HM.DK WHERE id = ?", correction_id).fetchone()
            if head is None:
                raise ErpNotFound(f"document {correction_id} is not in HM.DK")
            mg = self.d.insert(cur, "HM.MG", {"kod": f"KWZ do {head[2]}", "seria": "KWZ", "typ_dk": "KWZ",
                                              "data": self._now(), "khid": head[0], "magazyn": head[1], "bufor": 0,
                                              "anulowany": 0})
            for pid, qty in cur.execute("SELECT idtw, ilosc FROM HM.DP WHERE super = ? AND ilosc < 0",
                                        correction_id).fetchall():
                self.d.insert(cur, "HM.MZ", {"super": mg, "idtw": pid, "ilosc": -Decimal(str(qty)),
                                             "cena": Decimal(0), "magazyn": head[1], "bufor": 0, "przychod": 1,
                                             "rozchod": 0})
            self.d.insert(cur, "HM.PO", {"id1": correction_id, "id2": mg, "typ": PO_CORRECTION_WAREHOUSE})
            return mg
        return int(self.transaction(act))

    def record_payment(self, document_id: int, amount: Decimal, registry: str, when: dt.datetime) -> str:
        """A payment of a document (KP for cash, BP for a bank register), numbered; returns its number."""
        def act(cur: pyodbc.Cursor) -> str:
            head = cur.execute("SELECT khid, waluta FROM HM.DK WHERE id = ?", document_id).fetchone()
            if head is None:
                raise ErpNotFound(f"document {document_id} is not in HM.DK")
            number = int(cur.execute("SELECT COUNT(*) FROM HM.WPL").fetchone()[0]) + 1
            code = f"KP {number}/{when.year}"
            self.d.insert(cur, "HM.WPL", {"kod": code, "dk": document_id, "khid": head[0], "kwota": amount,
                                          "waluta": head[1], "rejestr": registry, "data": when})
            return code
        return str(self.transaction(act))

    def cancel_order(self, order_id: int) -> tuple[str, int]:
        """Cancel a customer order: it is marked cancelled and what it still reserved is freed."""
        def act(cur: pyodbc.Cursor) -> None:
            self._order_lines(cur, order_id)
            cur.execute("UPDATE HM.ZO SET anulowany = 1, modifiedDate = ? WHERE id = ?", self._now(), order_id)
            cur.execute("DELETE FROM HM.RZ WHERE iddokrz = ? AND bazadokrz = ?", order_id, ZO_BAZA)
        self.transaction(act)
        return "order-changed", order_id

    def draft_pz(self, product_id: int, quantity: Decimal | int, warehouse: int = 1) -> tuple[str, int]:
        """A goods receipt PZ saved in the buffer, not issued: no stock moves. Symfonia runs the document
        procedures' OnBeforeInsert / OnAddNewDokument for it already, so the hook names a draft."""
        def act(cur: pyodbc.Cursor) -> int:
            self._need_product(cur, product_id)
            mg = self.d.insert(cur, "HM.MG", {"kod": "", "seria": "PZ", "typ_dk": "PZ", "data": self._now(),
                                              "khid": None, "magazyn": warehouse, "bufor": 1, "anulowany": 0})
            self.d.insert(cur, "HM.MZ", {"super": mg, "idtw": product_id, "ilosc": Decimal(quantity),
                                         "cena": Decimal(0), "magazyn": warehouse, "bufor": 1, "przychod": 1,
                                         "rozchod": 0})
            return mg
        return "document-issued", self.transaction(act)

    def issue_document(self, document_id: int) -> tuple[str, int]:
        """Issue a warehouse document from the buffer: numbered, its lines booked."""
        def act(cur: pyodbc.Cursor) -> None:
            row = cur.execute("SELECT bufor FROM HM.MG WHERE id = ?", document_id).fetchone()
            if row is None:
                raise ErpNotFound(f"warehouse document id {document_id} is not in HM.MG")
            if not int(row[0] or 0):
                raise ErpPermanent(f"warehouse document id {document_id} is already issued")
            cur.execute("UPDATE HM.MZ SET bufor = 0 WHERE super = ?", document_id)
            cur.execute("UPDATE HM.MG SET bufor = 0, kod = ? WHERE id = ?", f"PZ {document_id}/{self._now().year}",
                        document_id)
        self.transaction(act)
        return "document-issued", document_id

    def approve_pz_lines(self, lines: Sequence[tuple[int, Decimal | int]], warehouse: int = 1) -> tuple[str, int]:
        """One approved goods receipt PZ of many lines (product id, quantity); the hook names the document."""
        def act(cur: pyodbc.Cursor) -> int:
            mg = self.d.insert(cur, "HM.MG", {"kod": "", "seria": "PZ", "typ_dk": "PZ", "data": self._now(),
                                              "khid": None, "magazyn": warehouse, "bufor": 0, "anulowany": 0})
            cur.execute("UPDATE HM.MG SET kod = ? WHERE id = ?", f"PZ {mg}/{self._now().year}", mg)
            for pid, qty in lines:
                self.d.insert(cur, "HM.MZ", {"super": mg, "idtw": pid, "ilosc": Decimal(qty), "cena": Decimal(0),
                                             "magazyn": warehouse, "bufor": 0, "przychod": 1, "rozchod": 0})
            return mg
        return "document-issued", self.transaction(act)
