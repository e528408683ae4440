"""`make run`'s job (`shopsync run-demo`) on a fresh folder: demo ERP, its WebAPI, local shop and server come up,
and the seeded shop orders reach the ERP through the WebAPI, numbered in its series."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from tests.helpers.servers import bin_path, env_with, free_port
from tests.helpers.stack import wait_until


def command_line(path: Path) -> str:
    """A process's command line as `ps` shows it to anyone ("" when it ended meanwhile)."""
    try:
        return path.read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_run_demo_writes_the_seeded_orders_through_the_webapi(tmp_path):
    grpc_port, shop_port, hook_port, api_port, console_port = (free_port() for _ in range(5))
    (tmp_path / "shopsync.toml").write_text(
        f'[grpc]\naddress = "127.0.0.1:{grpc_port}"\n[shop]\nurl = "http://127.0.0.1:{shop_port}"\n'
        f'[webhooks]\naddress = "127.0.0.1:{hook_port}"\n[erp]\nwebapi_url = "http://127.0.0.1:{api_port}/api"\n'
        f'[console]\naddress = "127.0.0.1:{console_port}"\n')
    log = tmp_path / "demo.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([bin_path("shopsync"), "--config", "shopsync.toml", "run-demo"], cwd=tmp_path,
                                env=env_with(), stdout=out, stderr=subprocess.STDOUT)
    try:
        try:
            wait_until(lambda: "written through the WebAPI as ZMO 1/sklep/" in log.read_text() or proc.poll() is not None,
                       timeout=120, message="a seeded order written through the demo WebAPI")
            assert proc.poll() is None, f"run-demo ended with exit code {proc.returncode}"
        except AssertionError as exc:  # say what the demo was doing: its log, its WebAPI's and its shop's
            tails = "\n".join(f"--- {p.name} (last 60 lines)\n" + "\n".join(p.read_text(errors="replace")
                                                                           .splitlines()[-60:])
                              for p in (log, tmp_path / "var/demo/webapi.log", tmp_path / "var/demo/shop.log")
                              if p.exists())
            raise AssertionError(f"{exc}\n{tails}") from None
        text = log.read_text()
        assert f"erp_webapi             http://127.0.0.1:{api_port}/api" in text
        assert "Traceback" not in text
        secrets = (tmp_path / "var" / "demo" / "secrets.json").read_text()
        key = __import__("json").loads(secrets)["webapi_app_key"]
        assert key not in text, "the WebAPI application key is a secret"
        # the console is on, its password printed once for the person who ran the demo (not in the server's log)
        password = __import__("json").loads(secrets)["console_password"]
        assert f"http://127.0.0.1:{console_port} (user admin, password {password})" in text
        assert text.count(password) == 1
        import httpx

        assert httpx.get(f"http://127.0.0.1:{console_port}/login").status_code == 200
        # every local user can list processes: no secret of the demo stands in any command line
        values = __import__("json").loads(secrets)
        lines = [ln for ln in (command_line(p) for p in Path("/proc").glob("[0-9]*/cmdline")) if ln]
        assert any("run-demo" in ln for ln in lines) and any("webapi_sim" in ln for ln in lines)
        for name, value in values.items():
            assert not any(value in ln for ln in lines), f"the demo's {name} is in a command line"
        for name in ("secrets.json", "endpoints.json"):
            assert (tmp_path / "var" / "demo" / name).stat().st_mode & 0o077 == 0, f"{name} is readable by others"
        assert (tmp_path / "var" / "shopsync" / "admin-token").stat().st_mode & 0o077 == 0
        # the seeded T-shirt in S, M, L is one variable product of the shop, each size a variation
        from shop_client.woocommerce import WooCommerceShop

        shop = WooCommerceShop(f"http://127.0.0.1:{shop_port}", values["shop_key"], values["shop_secret"])
        try:
            def sizes() -> set[str]:
                ids = shop.find_product_ids_by_sku(["KOSZ-BASIC"])
                return {v.sku for v in shop.iter_variations(ids["KOSZ-BASIC"])} if ids else set()

            wait_until(lambda: sizes() == {"KOSZ-BASIC-S", "KOSZ-BASIC-M", "KOSZ-BASIC-L"}, timeout=60,
                       message="the seeded family in the shop")
            assert shop.get_product(shop.find_product_ids_by_sku(["KOSZ-BASIC"])["KOSZ-BASIC"]).name == \
                "Koszulka Basic"
        finally:
            shop.close()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, log.read_text()[-2000:]
