"""The admin commands: they talk to a running server over gRPC (import-catalog, customers, queue, catch-up)."""

from __future__ import annotations

import argparse
from typing import Any
import secrets

from .support import Client, client_command, follow, print_json


def cmd_import_catalog(client: Client, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from shopsync.v1 import sync_pb2, sync_pb2_grpc

    stub = sync_pb2_grpc.SyncServiceStub(client.channel)
    last = None
    problems = []
    bar = tqdm(unit="product", desc="importing" if not args.dry_run else "checking", disable=args.quiet)
    try:
        for progress in stub.ImportCatalog(sync_pb2.ImportCatalogRequest(dry_run=args.dry_run),
                                           metadata=client.metadata):
            if progress.total and bar.total != progress.total:
                bar.total = progress.total
            bar.update(progress.seen - bar.n)
            bar.set_postfix(created=progress.created, paired=progress.paired, skipped=progress.skipped)
            problems += list(progress.problems)
            last = progress
    except client.grpc.RpcError as exc:
        bar.close()
        raise client.error(exc) from None
    bar.close()
    for p in problems:
        print(f"  skipped shop product {p.shop_product_id} (SKU {p.sku!r}): {p.reason}")
    if last is not None:
        verb = "would create" if args.dry_run else "created"
        print(f"{last.seen} products seen: {verb} {last.created}, paired {last.paired} by code, "
              f"{last.already_bound} already bound, {last.skipped} skipped")
    return 0


def cmd_customers(client: Client, args: argparse.Namespace) -> int:
    from shopsync.v1 import customers_pb2, customers_pb2_grpc

    stub = customers_pb2_grpc.CustomerServiceStub(client.channel)
    if args.customers_action == "list":
        token = ""
        rows = []
        while True:
            resp = client.call(stub.ListCustomers, customers_pb2.ListCustomersRequest(
                needs_person=args.needs_person, page_size=500, page_token=token))
            rows += resp.customers
            token = resp.next_page_token
            if not token:
                break
        for c in rows:
            status = customers_pb2.PairingStatus.Name(c.status).removeprefix("PAIRING_STATUS_").lower()
            who = f"-> contractor {c.erp_contractor_id}" if c.erp_contractor_id else ""
            print(f"{c.shop_customer_id:>8}  {status:13} {c.email:30} {c.nip:16} {who}  {c.detail}")
        print(f"{len(rows)} customer(s)")
    elif args.customers_action == "pair":
        resp = client.call(stub.PairCustomer, customers_pb2.PairCustomerRequest(
            request_id=secrets.token_hex(8), shop_customer_id=args.shop_customer_id,
            erp_contractor_id=args.erp_contractor_id))
        print(f"customer {resp.customer.shop_customer_id} paired with contractor {resp.customer.erp_contractor_id}")
    elif args.customers_action == "unpair":
        client.call(stub.UnpairCustomer, customers_pb2.UnpairCustomerRequest(
            request_id=secrets.token_hex(8), shop_customer_id=args.shop_customer_id))
        print(f"customer {args.shop_customer_id} unpaired; it now waits for a person")
    else:
        last = follow(client, stub.RunCustomerPairing(customers_pb2.RunCustomerPairingRequest(),
                                                       metadata=client.metadata, timeout=3600),
                       "customers", lambda p: (p.seen, p.total))
        print(f"{last.seen} customers: {last.paired} paired, {last.needs_person} need a person")
    return 0


def stats_table(resp: Any) -> str:
    """Queue statistics as a person reads them: every queue, every count, zeros included."""
    from shopsync.v1 import queue_pb2

    names = {queue_pb2.QUEUE_NAME_ERP_EVENTS: "erp_events (ERP -> server)",
             queue_pb2.QUEUE_NAME_OUTBOX: "outbox (-> shop)", queue_pb2.QUEUE_NAME_INBOX: "inbox (shop -> ERP)"}
    rows = [("queue", "waiting", "in flight", "dead letters", "oldest waiting")]
    for q in resp.queues:
        age = q.oldest_pending_age_seconds
        rows.append((names.get(q.queue, str(q.queue)), str(q.pending), str(q.in_flight), str(q.dead_letters),
                     "-" if not age else f"{age:.0f} s" if age < 120 else f"{age / 60:.0f} min"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def cmd_queue(client: Client, args: argparse.Namespace) -> int:
    from shopsync.v1 import queue_pb2, queue_pb2_grpc

    stub = queue_pb2_grpc.QueueServiceStub(client.channel)
    if args.queue_action == "stats":
        resp = client.call(stub.GetQueueStats, queue_pb2.GetQueueStatsRequest())
        if args.json:
            print_json(resp)
        else:
            print(stats_table(resp))
    elif args.queue_action == "dead-letters":
        listed = client.call(stub.ListDeadLetters, queue_pb2.ListDeadLettersRequest(page_size=1000))
        if getattr(args, "json", False):
            print_json(listed)
        elif not listed.dead_letters:
            print("no dead letters")
        else:
            print(f"{'id':>6}  {'queue':8} {'what':24} {'tries':>5}  reason")
            for d in listed.dead_letters:
                queue = queue_pb2.QueueName.Name(d.queue).removeprefix("QUEUE_NAME_").lower()
                print(f"{d.id:>6}  {queue:8} {(d.entity_key or d.kind)[:24]:24} {d.attempts:>5}  {d.reason}")
            print(f"\n{len(listed.dead_letters)} dead letter(s): `shopsync queue retry ID` sends one again, "
                  "`shopsync queue discard ID` drops it")
    elif args.queue_action == "retry":
        resp = client.call(stub.RetryDeadLetter, queue_pb2.RetryDeadLetterRequest(
            id=args.id, request_id=secrets.token_hex(8)))
        print(f"dead letter {args.id} queued again as message {resp.new_id}")
    else:
        client.call(stub.DiscardDeadLetter, queue_pb2.DiscardDeadLetterRequest(
            id=args.id, request_id=secrets.token_hex(8)))
        print(f"dead letter {args.id} discarded")
    return 0


def cmd_catch_up(client: Client, args: argparse.Namespace) -> int:
    from shopsync.v1 import sync_pb2, sync_pb2_grpc

    stream = sync_pb2_grpc.SyncServiceStub(client.channel).RunCatchUp(sync_pb2.RunCatchUpRequest(),
                                                                     metadata=client.metadata, timeout=3600)
    last = follow(client, stream, "products", lambda p: (p.products_checked, p.products_total))
    print(f"{last.products_checked} products checked, {last.products_queued} queued for the shop")
    return 0


def cmd_hooks(client: Client, args: argparse.Namespace) -> int:
    """The last event of each kind the server received (are Symfonia's procedures running?)."""
    import datetime as dt

    from shopsync.v1 import erp_events_pb2, erp_events_pb2_grpc
    from ..sync.messages import EVENT_NAMES

    resp = client.call(erp_events_pb2_grpc.ErpEventServiceStub(client.channel).ListRecentEvents,
                       erp_events_pb2.ListRecentEventsRequest())
    since = dt.datetime.fromtimestamp(resp.since_unix_ms / 1000).isoformat(sep=" ", timespec="seconds")
    if not resp.events:
        print(f"no hook events since the server started ({since}); see docs/symfonia.md to test a procedure")
        return 0
    print(f"hook events since the server started ({since}):")
    for e in resp.events:
        at = dt.datetime.fromtimestamp(e.received_unix_ms / 1000).isoformat(sep=" ", timespec="seconds")
        print(f"  {EVENT_NAMES.get(e.kind, str(e.kind)):18} last {at}  id {e.erp_id:<8} {e.count} in all")
    return 0


def cmd_reconcile(client: Client, args: argparse.Namespace) -> int:
    from shopsync.v1 import sync_pb2, sync_pb2_grpc

    stream = sync_pb2_grpc.SyncServiceStub(client.channel).RunReconciliation(sync_pb2.RunReconciliationRequest(),
                                                                             metadata=client.metadata, timeout=3600)
    last = follow(client, stream, "products", lambda p: (p.checked, p.total))
    fixed = ", ".join(f"{k} {n}" for k, n in sorted(last.corrections.items())) or "nothing to correct"
    print(f"{last.checked} products compared with the shop: {fixed}")
    for c in last.conflicts:
        print(f"  for a person: {c}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import-catalog", help="create the shop's products in the ERP and pair them")
    p.add_argument("--dry-run", action="store_true", help="report what would happen, write nothing")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=client_command(cmd_import_catalog))

    p = sub.add_parser("customers", help="customer pairing with ERP contractors")
    csub = p.add_subparsers(dest="customers_action", required=True, metavar="ACTION")
    c = csub.add_parser("list", help="customers and their pairing")
    c.add_argument("--needs-person", action="store_true", help="only those waiting for a person")
    c = csub.add_parser("pair", help="pair a shop customer with an ERP contractor by hand")
    c.add_argument("shop_customer_id", type=int)
    c.add_argument("erp_contractor_id", type=int)
    c = csub.add_parser("unpair", help="remove a pairing")
    c.add_argument("shop_customer_id", type=int)
    csub.add_parser("run-pairing", help="run the automatic pairing pass now")
    p.set_defaults(func=client_command(cmd_customers))

    p = sub.add_parser("queue", help="queue statistics and dead letters")
    qsub = p.add_subparsers(dest="queue_action", required=True, metavar="ACTION")
    q = qsub.add_parser("stats", help="messages waiting, in flight and dead per queue (a table; --json for tools)")
    q.add_argument("--json", action="store_true", help="the API's answer as JSON")
    qsub.add_parser("dead-letters", help="the dead letters, one a line").add_argument(
        "--json", action="store_true", help="as JSON, every field")
    for name in ("retry", "discard"):
        q = qsub.add_parser(name)
        q.add_argument("id", type=int)
    p.set_defaults(func=client_command(cmd_queue))

    sub.add_parser("reconcile", help="compare what the shop really holds with the ERP and correct it").set_defaults(
        func=client_command(cmd_reconcile))

    p = sub.add_parser("hooks", help="what the ERP hooks sent")
    hsub = p.add_subparsers(dest="hooks_action", required=True, metavar="ACTION")
    hsub.add_parser("last", help="the last event of each kind received since the server started")
    p.set_defaults(func=client_command(cmd_hooks))

    sub.add_parser("catch-up", help="queue every product whose shop state is behind the ERP").set_defaults(
        func=client_command(cmd_catch_up))
