"""The marker the site agreed on (erp.marker): Symfonia's native marker (a number on the product card, the
coloured flag ERP users see) or a product feature and its value; either one publishes and hides, through
both ERP writers. Real server process, hook processes, the demo company and the local shop over HTTP."""

from __future__ import annotations

import pytest

from shopsync.server.erp.records import MarkerSource
from tests.helpers.stack import Stack, wait_until


@pytest.mark.parametrize("writer", ["sql", "webapi"])
@pytest.mark.parametrize("marker", ["marker:3", "feature:Sklep=TAK"])
def test_giving_the_agreed_marker_creates_the_product_and_clearing_it_hides_it(tmp_path, marker, writer):
    stack = Stack(tmp_path, products=20, erp_writer=writer, erp={"marker": marker}).start_server()
    try:
        code = stack.erp.get_product(7).code
        stack.act(stack.sim.set_marker(7, False))  # not sold online (yet)
        wait_until(stack.queues_empty, message="drained")
        assert stack.shop_product(code) is None, "a product without the marker is never sent"
        stack.act(stack.sim.set_marker(7, True))
        created = wait_until(lambda: stack.shop_product(code), message="created when the marker is given")
        assert created.published
        stack.act(stack.sim.set_marker(7, False))
        wait_until(lambda: not stack.shop_product(code).published, message="hidden when the marker is cleared")
    finally:
        stack.close()


def test_the_other_marker_means_nothing(tmp_path):
    """Marker 3 agreed: a product flagged with the demo's marker 1 (and the feature) is not sold online."""
    stack = Stack(tmp_path, products=20, erp={"marker": "marker:3"}).start_server()
    try:
        code = stack.erp.get_product(1).code  # flagged marker 1 and Sklep=TAK by the demo company
        stack.act(stack.sim.save_item(1))
        wait_until(stack.queues_empty, message="drained")
        assert stack.shop_product(code) is None
    finally:
        stack.close()


@pytest.mark.parametrize("text, error", [
    ("marker:0", "marker's number"), ("marker:x", "marker's number"), ("feature:Sklep", "feature's name"),
    ("feature:Sk lep=TAK", "feature's name"), ("cecha:Sklep=TAK", "write marker:N"),
])
def test_a_marker_setting_that_cannot_work_says_how_to_write_it(text, error):
    with pytest.raises(ValueError, match=error):
        MarkerSource.parse(text)


def test_the_old_feature_settings_are_read_as_erp_marker_with_a_notice(tmp_path):
    from shopsync.server.settings import SettingsError, load_settings

    cfg = tmp_path / "s.toml"
    cfg.write_text('[erp]\nmarker_feature = "Internet"\nmarker_value = "T"\n')
    s = load_settings(cfg, env={})
    assert s.erp.marker == "feature:Internet=T" and "erp.marker" in s.notices[0]
    cfg.write_text('[erp]\nmarker = "marker:2"\nmarker_feature = "Internet"\n')
    with pytest.raises(SettingsError, match="replaced by erp.marker"):
        load_settings(cfg, env={})
