"""The ERP gateway through pyodbc, on the SQLite3 ODBC driver and on psqlODBC."""

from __future__ import annotations

from decimal import Decimal

import pytest
from shopsync.server.erp.errors import ErpNotFound, ErpPermanent, ErpRetryable
from shopsync.server.erp.records import AddressDraft, ContractorDraft, OrderDraft, OrderLineDraft, ProductDraft
from shopsync.server.erp.sql import ErpGateway
from shopsync.server.nip import is_valid_nip, normalize_nip


def test_reads_a_product_with_group_path_note_marker_and_price(erp):
    gw, sim = erp
    p = gw.get_product(1)
    assert p.code and p.name and len(p.ean) == 13
    assert len(p.group_path) == 2 and p.group_path[0] == "Narzędzia"
    assert p.marked is True and p.note.startswith(p.name.split()[0])
    assert p.base_price is not None and p.base_price > 0
    assert gw.get_product(3).marked is False  # every third demo product has no marker
    with pytest.raises(ErpNotFound):
        gw.get_product(999999)


def test_commercial_stock_is_summed_over_configured_warehouses(erp):
    gw, sim = erp
    both = gw.commercial_stock([5])[5]
    only_first = ErpGateway(gw.conn_str, gw.dialect, warehouses=(1,)).commercial_stock([5])[5]
    sim.approve_pz(5, 10, warehouse=2)
    assert gw.commercial_stock([5])[5] == both + 10
    assert ErpGateway(gw.conn_str, gw.dialect, warehouses=(1,)).commercial_stock([5])[5] == only_first


def test_reservation_lowers_and_deleting_it_gives_back(erp):
    gw, sim = erp
    before = gw.commercial_stock([7])[7]
    _, _, rz = sim.add_reservation(7, 3, warehouse=1)
    assert gw.commercial_stock([7])[7] == before - 3
    sim.delete_reservation(rz)
    assert gw.commercial_stock([7])[7] == before


def test_order_with_reservations_lowers_commercial_stock_and_is_idempotent(erp):
    gw, sim = erp
    kid = gw.create_contractor(ContractorDraft(code="WWW-1", name="Jan Kowalski", nip="", city="Kraków"))
    before = gw.commercial_stock([2, 4])
    draft = OrderDraft(shop_number="1001", contractor_id=kid, currency="EUR", rate=Decimal("4.2512"),
                       delivery=AddressDraft(label="Dostawa", name="Jan Kowalski", street="Długa", house="5",
                                             postcode="30-001", city="Kraków"),
                       lines=[OrderLineDraft(2, Decimal("2"), Decimal("10.50")),
                              OrderLineDraft(4, Decimal("1"), Decimal("99.99"))])
    oid, created = gw.create_order(draft)
    assert created
    again, created_again = gw.create_order(draft)
    assert again == oid and not created_again
    assert gw.find_order_by_shop_number("1001") == oid
    order = gw.get_order(oid)
    assert order.currency == "EUR" and order.rate == Decimal("4.2512")
    assert [(p, q) for p, q, _ in order.lines] == [(2, 2), (4, 1)]
    assert [(p, q, w) for p, q, w in order.reservations] == [(2, 2, 1), (4, 1, 1)]
    assert order.delivery_address_id is not None
    after = gw.commercial_stock([2, 4])
    assert after[2] == before[2] - 2 and after[4] == before[4] - 1
    assert gw.count_orders() == (1, 2, 2)


def test_order_is_all_or_nothing(erp):
    gw, sim = erp
    kid = gw.create_contractor(ContractorDraft(code="WWW-2", name="Firma"))
    counts = gw.count_orders()
    stock = gw.commercial_stock([1, 2])
    bad = OrderDraft(shop_number="1002", contractor_id=kid, currency="PLN", rate=Decimal(1), delivery=None,
                     lines=[OrderLineDraft(1, Decimal(1), Decimal(5)), OrderLineDraft(2, Decimal(1), Decimal(5)),
                            OrderLineDraft(999999, Decimal(1), Decimal(5))])
    with pytest.raises(ErpNotFound, match="line 3"):
        gw.create_order(bad)
    assert gw.count_orders() == counts
    assert gw.commercial_stock([1, 2]) == stock
    assert gw.find_order_by_shop_number("1002") is None


def test_quotes_and_polish_letters_round_trip(erp):
    gw, sim = erp
    name = 'Wiertło "Ø8" żółte; DROP TABLE'
    ids = gw.create_products([ProductDraft(code="X'1; --", name=name, ean="5901234123457",
                                           group_path=("Nowa grupa", "Żółta podgrupa"), price=Decimal("12.34"),
                                           note="Opis: ąęśćżźńłó")])
    p = gw.get_product(ids["X'1; --"])
    assert p.name == name and p.code == "X'1; --"
    assert p.group_path == ("Nowa grupa", "Żółta podgrupa")
    assert p.note == "Opis: ąęśćżźńłó" and p.base_price == Decimal("12.34") and p.marked
    assert gw.find_products_by_codes(["X'1; --", "nope"]) == {"X'1; --": p.id}
    # a second create of the same code creates nothing
    assert gw.create_products([ProductDraft(code="X'1; --", name="other")]) == {"X'1; --": p.id}
    assert gw.get_product(p.id).name == name


def test_product_code_too_long_is_permanent(erp):
    gw, _ = erp
    with pytest.raises(ErpPermanent, match="product code"):
        gw.create_products([ProductDraft(code="X" * 41, name="a")])


def test_contractors_found_by_nip_in_any_written_form(erp):
    gw, _ = erp
    found = gw.find_contractors_by_nip("PL 526-025-09-95")
    # the demo has two contractors with this NIP, typed differently
    assert len(found) == 2 and {normalize_nip(c.nip) for c in found} == {"5260250995"}
    assert gw.get_contractor(found[0].id).name == found[0].name


def test_price_lists_with_lines_and_who_they_apply_to(erp):
    gw, sim = erp
    ids = gw.price_list_ids()
    lists = [gw.get_price_list(i) for i in ids]
    hurt = [pl for pl in lists if pl.code == "HURT"][0]
    assert hurt.groups == (1,) and not hurt.individual and hurt.prices
    individual = [pl for pl in lists if pl.individual]
    assert individual and all(pl.contractors for pl in individual)
    sim.set_price(hurt.id, 1, Decimal("1.23"))
    assert gw.get_price_list(hurt.id).prices[1][0] == Decimal("1.23")
    assert gw.contractors_in_groups([1])


def test_images_table_round_trip(erp):
    gw, sim = erp
    assert gw.get_image(1) is None
    data = bytes(range(256)) * 10
    assert gw.put_image(1, "a.png", "image/png", data)
    assert not gw.put_image(1, "b.png", "image/png", b"x", only_if_missing=True)
    img = gw.get_image(1)
    assert img.data == data and img.filename == "a.png" and len(img.sha256) == 64
    assert gw.image_digests([1, 2]) == {1: (img.sha256, "image/png")}


def test_marked_products_and_changes_since(erp):
    gw, sim = erp
    marked = gw.marked_product_ids()
    assert 1 in marked and 3 not in marked
    sim.set_marker(3, True)
    assert 3 in gw.marked_product_ids()
    assert gw.marked_product_ids(after_id=10, limit=5)[0] > 10


def test_lost_database_is_retryable(tmp_path):
    from shopsync.server.erp.sql.dialects import make_dialect

    dialect = make_dialect("sqlite", database=tmp_path / "missing.db")
    gw = ErpGateway(dialect.connection_string(), dialect)
    with pytest.raises(ErpRetryable, match="does not exist"):
        gw.get_product(1)


def test_constraint_violation_is_permanent(erp):
    gw, _ = erp
    with pytest.raises(ErpPermanent):
        with gw.unit_of_work() as cur:
            cur.execute("INSERT INTO HM.ZP (super, lp, idtw, ilosc) VALUES (1, 1, 1, -5)")


@pytest.mark.parametrize("raw, expected", [
    ("PL 526-025-09-95", "5260250995"), ("526 025 09 95", "5260250995"), ("pl5260250995", "5260250995"),
    ("", ""), (None, ""),
])
def test_nip_normalisation(raw, expected):
    assert normalize_nip(raw) == expected


def test_nip_checksum():
    assert is_valid_nip("5260250995")
    assert not is_valid_nip("5260250994")
    assert not is_valid_nip("123")
    assert not is_valid_nip("abcdefghij")


def test_lost_connection_is_retryable_and_reopened(postgres, tmp_path, request):
    import psycopg2

    from tests.conftest import make_erp

    gw, sim, overrides = make_erp("postgres", tmp_path, request, product_count=5)
    assert gw.get_product(1).id == 1
    dbname = overrides["odbc"].split("Database=")[1].split(";")[0]
    admin = psycopg2.connect(host="127.0.0.1", port=postgres.port, user=postgres.user, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (dbname,))
    admin.close()
    with pytest.raises(ErpRetryable):
        gw.get_product(1)
    assert gw.get_product(1).id == 1  # reopened on the next unit of work
    sim.close()


def test_gateway_implements_the_erp_interface():
    """The flows depend on server.erp.interface.Erp; the SQL gateway must keep matching it."""
    import inspect

    from shopsync.server.erp.interface import Erp

    for name, member in inspect.getmembers(Erp, inspect.isfunction):
        if name.startswith("_"):
            continue
        impl = getattr(ErpGateway, name, None)
        assert impl is not None, f"ErpGateway lacks {name}"
        assert list(inspect.signature(impl).parameters) == list(inspect.signature(member).parameters), name
