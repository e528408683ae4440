"""The SQL gateway speaks T-SQL (Symfonia runs on SQL Server): its statements' text, what it runs, and how it
takes new ids. The whole suite's statements are checked too (tests/conftest.py, at the end of the run)."""

from __future__ import annotations

import ast
import os
from decimal import Decimal
from pathlib import Path

import pytest

from shopsync.server.erp.sql.dialects import SqlServerDialect
from tests.helpers.tsql import NOT_TSQL, tsql_problems

ROOT = Path(__file__).resolve().parents[2]
# The SQL gateway: every module of server/erp/sql but the dialects (whose connection strings and
# per-database statements are each database's own).
GATEWAY = [p for p in sorted((ROOT / "server" / "erp" / "sql").glob("*.py")) if p.name != "dialects.py"]
SQL_WORDS = ("SELECT ", "INSERT ", "UPDATE ", "DELETE ", " FROM ", " WHERE ", "ORDER BY", "VALUES")


@pytest.mark.parametrize("sql, word", [
    ("SELECT id FROM HM.TW WHERE kod = ? LIMIT 1", "LIMIT"),
    ("INSERT INTO HM.TW (kod) VALUES (?) RETURNING id", "RETURNING"),
    ("SELECT kod || nazwa FROM HM.TW", "||"),
    ("SELECT id FROM HM.TW WHERE aktywny = TRUE", "TRUE"),
    ("SELECT ifnull(nazwa, '') FROM HM.TW", "IFNULL"),
    ("SELECT last_insert_rowid()", "LAST_INSERT_ROWID"),
])
def test_the_check_refuses_what_sql_server_refuses(sql, word):
    assert any(word in p for p in tsql_problems(sql)), tsql_problems(sql)


def test_the_check_takes_t_sql():
    assert tsql_problems("SELECT TOP 1 id FROM HM.ZO WHERE kod_obcy = ? ORDER BY anulowany, id") == []
    assert tsql_problems("SELECT id FROM HM.ZO WHERE opis LIKE ? ESCAPE '!'") == []


def sql_fragments(path: Path) -> list[tuple[int, str]]:
    """The SQL text written in a module: string constants and the fixed parts of f-strings that read as SQL."""
    out = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            text = node.value
        else:
            continue
        if any(w in text.upper() for w in SQL_WORDS):
            out.append((node.lineno, text))
    return out


def test_no_word_sql_server_refuses_is_written_in_the_gateway():
    fragments = [(f"{path.name}:{line}", text) for path in GATEWAY for line, text in sql_fragments(path)]
    assert len(fragments) > 40, "the gateway's SQL was not found"
    from sqlglot.dialects.tsql import TSQL

    bad = [(line, t.text) for line, text in fragments for t in TSQL().tokenize(text)
           if t.text.upper() in NOT_TSQL and t.token_type.name not in ("STRING", "IDENTIFIER")]
    bad += [(line, "||") for line, text in fragments if "||" in text]
    assert not bad, f"not T-SQL in server/erp/sql (file:line, word): {bad}"


def test_new_ids_are_taken_in_a_way_that_works_on_tables_with_triggers():
    sql = SqlServerDialect.insert_sql("HM.ZO", ["kod", "khid"])
    assert "OUTPUT INSERTED.id INTO @new" in sql and tsql_problems(sql) == []

    class Cursor:
        def execute(self, text, params):
            self.text, self.params = text, params
            return self

        def fetchone(self):
            return (41,)

    cur = Cursor()
    assert SqlServerDialect().insert(cur, "HM.ZO", {"kod": "", "khid": 5}) == 41
    assert cur.params == ["", 5] and cur.text == SqlServerDialect.insert_sql("HM.ZO", ["kod", "khid"])


def test_what_the_gateway_runs_for_every_kind_of_work_is_t_sql(tmp_path, monkeypatch):
    """Products, stock, prices, the initial import, contractors, an order and its progress, images: every
    statement traced and parsed."""
    from shopsync.demo.erp import init_sqlite_demo
    from shopsync.server.erp.sql.dialects import make_dialect
    from shopsync.server.erp.sql import ErpGateway
    from shopsync.server.erp.records import AddressDraft, ContractorDraft, OrderDraft, OrderLineDraft, ProductDraft

    monkeypatch.setenv("SHOPSYNC_SQL_TRACE", str(tmp_path / "trace"))
    db = init_sqlite_demo(tmp_path / "erp.db", product_count=10)
    dialect = make_dialect("sqlite", database=db)
    for marker in ("marker:1", "feature:Sklep=TAK"):
        gw = ErpGateway(dialect.connection_string(), dialect, warehouses=(1, 2), marker=marker)
        ids = gw.marked_product_ids()
        gw.get_products(ids), gw.commercial_stock(ids), gw.prices_for_products(ids), gw.image_digests(ids)
        gw.find_products_by_codes(["X"]), gw.price_list_ids(), gw.get_price_list(gw.price_list_ids()[0])
        gw.create_products([ProductDraft(code=f"NEW-{marker[:3]}", name="Nowy", group_path=("A", "B"),
                                         price=Decimal("9.99"), marked=True, note="opis")])
        kid = gw.create_contractor(ContractorDraft(code=f"WWW-{marker[:3]}", name="Jan", city="Kraków"))
        gw.find_contractors_by_nip("5260250995"), gw.price_list_codes_for_contractors([kid])
        zo, _ = gw.create_order(OrderDraft(shop_number=f"S{marker[:3]}", contractor_id=kid, currency="PLN",
                                           rate=Decimal(1), lines=[OrderLineDraft(ids[0], Decimal(1), Decimal(5))],
                                           delivery=AddressDraft(label="Dostawa", name="Jan", city="Kraków")))
        gw.order_progress([zo]), gw.order_products(zo), gw.find_order_by_shop_number(f"S{marker[:3]}")
        gw.put_image(ids[0], "a.png", "image/png", b"\x89PNG\r\n\x1a\n", only_if_missing=False)
        gw.get_image(ids[0]), gw.cancel_order(zo)
        gw.close()
    statements = [s for f in (tmp_path / "trace").glob("*.sql") for s in f.read_text().splitlines()]
    assert len(statements) > 30
    bad = {s: tsql_problems(s) for s in statements if tsql_problems(s)}
    assert not bad, bad
    assert os.environ["SHOPSYNC_SQL_TRACE"] == str(tmp_path / "trace")
