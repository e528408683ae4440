"""A card's features (cechy: a size, a colour) read in both ERP modes, as a family of sizes will need them:
over SQL from SSCommon.ProductClassification, through the WebAPI from the card's Dimensions (the simulator over
the same company)."""

from __future__ import annotations

from shopsync.demo.erp import ErpSimulator

from tests.helpers.webapi import webapi_erp_over_demo


def test_a_cards_features_read_the_same_over_sql_and_through_the_webapi(tmp_path):
    erp, sim = webapi_erp_over_demo(tmp_path, 10, "features")
    try:
        person = ErpSimulator(erp.sql.dialect.connect(erp.sql.conn_str), erp.sql.dialect)
        try:
            person.set_feature(1, "Rodzina", "KOSZULKA")
            person.set_feature(1, "Rozmiar", "M")
            person.set_feature(2, "Rodzina", "KOSZULKA")
            person.set_feature(2, "Rozmiar", "L")
        finally:
            person.close()
        over_sql = erp.sql.get_products([1, 2, 3])
        through_webapi = erp.get_products([1, 2, 3])
        for products in (over_sql, through_webapi):
            assert {k: v for k, v in products[1].features.items() if k != "Sklep"} == {"Rodzina": "KOSZULKA",
                                                                                      "Rozmiar": "M"}
            assert products[2].features.get("Rozmiar") == "L"
            assert "Rozmiar" not in products[3].features, "a card without the feature has no value for it"
        assert over_sql[1].features == through_webapi[1].features
    finally:
        erp.close()
        sim.stop()
