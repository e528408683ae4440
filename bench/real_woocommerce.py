"""Benchmarks against a real WooCommerce 7.9.0 (the test rig: Debian WordPress, PHP, MariaDB).

Two figures, each next to references measured on the same shop in the same run:
1. first push of N new products (ERP marker -> shop): shopsync, against the same
   creates sent as bare 100-object batches one after another by a plain httpx client;
2. catch-up after a shop outage: N products changed 10 times each while the shop
   was down; shop back up -> shop equals ERP. References: (a) the official
   `woocommerce` client, one update per change (a timed sample, extrapolated);
   (b) the shop's sequential floor: the same final updates as minimal 100-object
   batches sent back to back by a bare httpx client.

Run by bench/run_all.py (`--only realwoo`); needs ../shared/vendor (skipped otherwise).
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import httpx

from tests.helpers.stack import Stack, wait_until
from tests.helpers.wordpress import RealWooCommerceProcess, WordPressSite, missing_reason


def _bare_batches(shop: RealWooCommerceProcess, bodies: list[dict[str, Any]], action: str) -> float:
    """Seconds to send `bodies` as 100-object batches, one after another (the shop's sequential floor)."""
    with shop.api() as api:
        api.timeout = httpx.Timeout(120)
        start = time.perf_counter()
        for i in range(0, len(bodies), 100):
            r = api.post("/products/batch", json={action: bodies[i:i + 100]})
            r.raise_for_status()
            errors = [x for x in r.json().get(action, []) if x.get("error")]
            assert not errors, errors[:2]
        return time.perf_counter() - start


def bench_real_woocommerce(tmp: Path, products: int, changes_each: int, record: Callable[..., None],
                           reference_put: Callable[..., Any], official_sample: int = 100) -> None:
    reason = missing_reason()
    if reason:
        print(f"real WooCommerce benchmarks skipped: {reason}", flush=True)
        return
    import grpc
    from woocommerce import API

    from shopsync.v1 import erp_events_pb2, erp_events_pb2_grpc

    site = WordPressSite(tmp / "site")
    try:
        # -- reference for the first push: bare batches of creates into a fresh shop ---------------
        floor_shop = RealWooCommerceProcess(site, tmp).start()
        floor_shop.wait_ready()
        creates = [{"sku": f"FLOOR-{i:05d}", "name": f"Produkt {i}", "type": "simple", "regular_price": "19.99",
                    "manage_stock": True, "stock_quantity": 5, "status": "publish"} for i in range(products)]
        create_floor = _bare_batches(floor_shop, creates, "create")
        floor_shop.stop()

        shop = RealWooCommerceProcess(site, Path(tempfile.mkdtemp(dir=tmp)))
        stack = Stack(Path(tempfile.mkdtemp(dir=tmp)), products=int(products * 1.5) + 3, shop_kind="real_woocommerce",
                      shop_process=shop, auth={"token": ""}, log={"level": "INFO"},
                      orders={"poll_interval_seconds": 0}, sync={"customer_pass_interval_seconds": 0})
        stack.start_server()
        shop.wait_ready()
        try:
            marked = [pid for pid, p in stack.erp.get_products(range(1, int(products * 1.5) + 4)).items()
                      if p.marked][:products]

            with grpc.insecure_channel(stack.address) as ch:
                stub = erp_events_pb2_grpc.ErpEventServiceStub(ch)
                start = time.perf_counter()
                for pid in marked:
                    stub.RecordErpEvent(erp_events_pb2.RecordErpEventRequest(request_id=f"i{pid}", kind=1,
                                                                             erp_id=pid), metadata=stack.metadata)
                wait_until(stack.queues_empty, timeout=1800, interval=0.2, message="first push")
                first_push = time.perf_counter() - start
            record(f"real WooCommerce: first push of {len(marked)} new products (categories, stock, prices)",
                   first_push, "s", "the same creates as bare 100-object batches, sequential", create_floor,
                   "aim: within 1.5x of the bare batches", first_push <= 1.5 * create_floor)

            # -- the outage: every product changes `changes_each` times while the shop is down ------
            shop.stop()
            rng = random.Random(3)
            plan = [(pid, rng.randint(1, 9)) for pid in marked for _ in range(changes_each)]
            rng.shuffle(plan)

            def receipts(cur: Any, chunk: list[tuple[int, int]]) -> None:
                for pid, qty in chunk:
                    cur.execute("INSERT INTO HM.MZ (super, idtw, ilosc, cena, magazyn, bufor, przychod, rozchod) "
                                "VALUES (0, ?, ?, 0, 1, 0, 1, 0)", pid, qty)

            for i in range(0, len(plan), 500):
                stack.sim.transaction(lambda cur: receipts(cur, plan[i:i + 500]))  # noqa: B023
            with grpc.insecure_channel(stack.address) as ch:
                stub = erp_events_pb2_grpc.ErpEventServiceStub(ch)
                for n, (pid, _) in enumerate(plan):
                    stub.RecordErpEvent(erp_events_pb2.RecordErpEventRequest(request_id=f"c{n}", kind=3, erp_id=pid),
                                        timeout=30, metadata=stack.metadata)
            wait_until(lambda: stack.queue_stats()["QUEUE_NAME_ERP_EVENTS"].pending == 0, timeout=600,
                       message="events read")
            shop.start()
            shop.wait_ready()  # timed from the moment the shop answers again (PHP's start is not ours)
            start = time.perf_counter()
            wait_until(stack.queues_empty, timeout=1800, interval=0.1, message="outbox drained")
            ours = time.perf_counter() - start
            expected = stack.erp.commercial_stock(marked)
            codes = {pid: p.code for pid, p in stack.erp.get_products(marked).items()}
            got = {p.sku: p.stock for page in stack.woo.iter_products() for p in page.items}
            wrong = [pid for pid in marked if got.get(codes[pid]) != expected[pid]]
            if wrong:
                from shopsync.v1 import queue_pb2, queue_pb2_grpc

                with grpc.insecure_channel(stack.address) as ch:
                    dead = queue_pb2_grpc.QueueServiceStub(ch).ListDeadLetters(
                        queue_pb2.ListDeadLettersRequest(), timeout=30, metadata=stack.metadata).dead_letters
                raise AssertionError(f"{len(wrong)} products differ from the ERP after catch-up, e.g. "
                                     f"{[(p, got.get(codes[p]), expected[p]) for p in wrong[:3]]}; "
                                     f"{len(dead)} dead letters, e.g. {[d.reason for d in dead[:2]]}")

            ids = stack.woo.find_product_ids_by_sku([codes[pid] for pid in marked[:20]])
            # (b) the shop's floor: the final stock of every product, 100 per batch, back to back
            all_ids = {p.sku: p.id for page in stack.woo.iter_products() for p in page.items}
            updates = [{"id": all_ids[codes[pid]], "stock_quantity": int(expected[pid]) + 1} for pid in marked]
            floor = _bare_batches(shop, updates, "update")
            # (a) the official client, one update per change (a sample, extrapolated to every change)
            wcapi = API(url=shop.url, consumer_key=shop.key, consumer_secret=shop.secret, version="wc/v3",
                        timeout=60)
            shop_ids = list(ids.values())
            start = time.perf_counter()
            for n in range(official_sample):
                reference_put(wcapi, f"products/{shop_ids[n % len(shop_ids)]}",
                              {"stock_quantity": n, "manage_stock": True}).raise_for_status()
            official = (time.perf_counter() - start) / official_sample * len(plan)
            record(f"real WooCommerce: catch-up of {len(marked)} products x {changes_each} changes after an outage",
                   ours, "s", f"(a) official client, one update per change ({official_sample} timed, extrapolated)",
                   official, "aim: >= 20x faster than (a)", official / ours >= 20)
            record("real WooCommerce: the same catch-up vs (b) bare sequential 100-object batches", ours, "s",
                   "(b) bare batches, sequential", floor, "aim: faster than (b)", ours < floor)
        finally:
            stack.close()
    finally:
        site.close()


SIZES = ("XS", "S", "M", "L", "XL", "XXL", "3XL", "4XL", "5XL", "6XL")


def bench_variants(tmp: Path, families: int, size: int, simple: int, record: Callable[..., None]) -> None:
    """Catch-up of `families` families of `size` cards each (variable products with their variations) beside
    `simple` simple products, in the same run on the same real WooCommerce; aim: at most 1.3x their time."""
    reason = missing_reason()
    if reason:
        print(f"real WooCommerce variant benchmark skipped: {reason}", flush=True)
        return
    import grpc

    from shopsync.v1 import sync_pb2, sync_pb2_grpc

    cards = families * size
    site = WordPressSite(tmp / "site")
    try:
        shop = RealWooCommerceProcess(site, Path(tempfile.mkdtemp(dir=tmp)))
        stack = Stack(Path(tempfile.mkdtemp(dir=tmp)), products=simple + cards, shop_kind="real_woocommerce",
                      shop_process=shop, auth={"token": ""}, log={"level": "INFO"},
                      orders={"poll_interval_seconds": 0}, sync={"customer_pass_interval_seconds": 0})
        stack.sections["products"] = {"variants_by": "feature:Rodzina", "variant_attributes": ["Rozmiar"]}
        stack.write_config()
        stack.sim.define_feature("Rodzina")
        stack.sim.define_feature("Rozmiar")
        # only the first `simple` cards are sold online to begin with
        stack.sim.transaction(lambda cur: (cur.execute("UPDATE HM.TW SET znacznik = 0"),
                                           cur.execute("UPDATE HM.TW SET znacznik = 1 WHERE id <= ?", simple)))
        stack.start_server()
        shop.wait_ready()

        def catch_up(what: str) -> float:
            start = time.perf_counter()
            with grpc.insecure_channel(stack.address) as ch:
                list(sync_pb2_grpc.SyncServiceStub(ch).RunCatchUp(sync_pb2.RunCatchUpRequest(), timeout=600,
                                                                    metadata=stack.metadata))
            wait_until(stack.queues_empty, timeout=3600, interval=0.2, message=what)
            return time.perf_counter() - start

        try:
            plain = catch_up("simple products pushed")

            def group(cur: Any) -> None:  # a person groups the other cards into families, sold online
                for n in range(cards):
                    pid = simple + 1 + n
                    cur.execute("UPDATE SSCommon.ProductClassification SET CDim_Rodzina_Val = ?, CDim_Rozmiar_Val = ? "
                                "WHERE ElementId = ?", f"RODZ-{n // size:04d}", SIZES[n % size], pid)
                    if cur.rowcount == 0:
                        cur.execute("INSERT INTO SSCommon.ProductClassification (ElementId, CDim_Rodzina_Val, "
                                    "CDim_Rozmiar_Val) VALUES (?, ?, ?)", pid, f"RODZ-{n // size:04d}",
                                    SIZES[n % size])
                cur.execute("UPDATE HM.TW SET znacznik = 1 WHERE id > ?", simple)

            stack.sim.transaction(group)
            varied = catch_up("families pushed")
            parents = [p for page in stack.woo.iter_products() for p in page.items if p.kind == "variable"]
            made = sum(len(stack.woo.iter_variations(p.id)) for p in parents[:5])
            if len(parents) != families or made != 5 * size:
                raise AssertionError(f"{len(parents)} variable products (want {families}), {made} variations in the "
                                     f"first five (want {5 * size})")
            record(f"real WooCommerce: catch-up of {families} families x {size} variations (new)", varied, "s",
                   f"catch-up of {simple} simple products (new), same run", plain, "aim: at most 1.3x",
                   varied <= 1.3 * plain)
        finally:
            stack.close()
    finally:
        site.close()
