"""The settings an order needs, checked against the ERP's own dictionaries (Symfonia WebAPI): every problem
at once, naming the setting; orders wait with that one line, and `shopsync check-erp` says the same.

Real pieces: the WebAPI simulator process, the server process, the local shop, the CLI as a subprocess.
"""

from __future__ import annotations

import subprocess

from shopsync.server.erp.webapi import WebApiErp
from shopsync.server.settings import load_settings

from tests.helpers.servers import bin_path, env_with
from tests.helpers.stack import Stack, wait_until
from tests.helpers.sync_steps import shop_order, sync_products

WRONG = {"erp": {"webapi_department": "Dział handlowy", "order_series": "detal", "warehouses": [1, 7]},
         "orders": {"payment_forms": {"bacs": 9, "cod": 4}, "fixed_rates": {"EUR": 4.25, "XYZ": 1.0},
                    "shipping_code": "KURIER"}}


def check(stack: Stack) -> subprocess.CompletedProcess[str]:
    return subprocess.run([bin_path("shopsync"), "--config", str(stack.config), "check-erp"], capture_output=True,
                          text=True, timeout=60, env=env_with())


def test_every_problem_is_reported_at_once_naming_the_setting(tmp_path):
    stack = Stack(tmp_path, products=10, erp_writer="webapi", **WRONG)
    try:
        erp = WebApiErp.from_settings(load_settings(stack.config))
        problems = erp.check_settings(erp.settings)
        erp.close()
        text = "\n".join(problems)
        assert len(problems) == 7, text
        for expected in ("erp.webapi_department = 'Dział handlowy'", "Sklep internetowy, Centrala",
                         "erp.order_series = 'detal'", "sklep, hurt", "orders.payment_forms.bacs = 9",
                         "orders.payment_forms.cod = 4: payment form 'Pobranie' is inactive",
                         "erp.warehouses: no warehouse 7", "orders.fixed_rates: XYZ",
                         "orders.shipping_code = 'KURIER'"):
            assert expected in text, f"{expected!r} not in:\n{text}"
        done = check(stack)
        assert done.returncode == 1 and "7 setting(s) do not fit" in done.stdout and "Traceback" not in done.stderr
        assert stack.webapi.APP_KEY not in done.stdout + done.stderr
    finally:
        stack.close()


def test_good_settings_pass_and_the_cli_says_so(tmp_path):
    stack = Stack(tmp_path, products=10, erp_writer="webapi", orders={"payment_forms": {"bacs": 3, "cod": 1}})
    try:
        done = check(stack)
        assert done.returncode == 0 and "the settings fit the ERP company" in done.stdout, done.stdout + done.stderr
    finally:
        stack.close()


def test_orders_wait_with_one_line_until_the_settings_fit_then_flow(tmp_path):
    stack = Stack(tmp_path, products=10, erp_writer="webapi", erp={"webapi_department": "Dział handlowy"})
    try:
        stack.start_server()
        stack.register_webhooks()
        codes = sync_products(stack, [1])
        order = shop_order(stack, [(codes[0], 1)])
        wait_until(lambda: "erp.webapi_department = 'Dział handlowy' is not a department" in stack.log.read_text(),
                   message="the problem in the server's log")
        assert stack.erp.find_order_by_shop_number(order["number"]) is None
        assert stack.webapi.calls("POST /OrdersIssue/New") == 0, "nothing sent while the settings do not fit"
        stats = stack.queue_stats()
        assert sum(q.dead_letters for q in stats.values()) == 0, "waiting, not a dead letter"
        stack.stop_server()
        stack.sections["erp"]["webapi_department"] = "SKLEP"  # the department's code is taken too
        stack.write_config()
        stack.start_server()
        wait_until(lambda: stack.erp.find_order_by_shop_number(order["number"]), timeout=60,
                   message="the order imported once the setting fits")
    finally:
        stack.close()


def test_over_sql_the_cli_checks_what_the_database_answers_and_says_what_it_did_not_check(tmp_path):
    stack = Stack(tmp_path, products=10, erp_writer="sql", orders={"shipping_code": "KURIER", "fee_code": "OPLATA"})
    try:
        done = check(stack)
        assert done.returncode == 1 and "orders.shipping_code = 'KURIER': no item" in done.stdout, done.stdout
        assert "fee_code" not in done.stdout, "OPLATA is in the demo company"
        stack.sections["orders"]["shipping_code"] = "TRANSPORT"
        stack.write_config()
        done = check(stack)
        assert done.returncode == 0 and "series, department and warehouses are not checked" in done.stdout, \
            done.stdout
    finally:
        stack.close()
