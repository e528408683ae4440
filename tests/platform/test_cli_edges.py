"""The command-line edges a person meets: settings refused with the setting's name, busy ports,
hook arguments and settings, the hook spool under concurrency, output into a closed pipe."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from shopsync.server.settings import Settings, SettingsError, load_settings

from erp_hooks.cli import KNOWN_KEYS
from erp_hooks.spool import Spool, SpoolLocked
from tests.helpers.servers import bin_path, env_with, free_port


def run(cmd: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env_with(**env))


@pytest.mark.parametrize("toml, setting", [
    ("[grpc]\nmax_message_bytes = -5\n", "grpc.max_message_bytes"),
    ('[orders]\nfixed_rates = { EUR = "abc" }\n', "orders.fixed_rates.EUR"),
    ("[orders]\nfixed_rates = { EUR = 0 }\n", "orders.fixed_rates.EUR"),
    ("[shop]\nconcurrency = 0\n", "shop.concurrency"),
    ("[queue]\nbatch_size = 500\n", "queue.batch_size"),
])
def test_settings_that_cannot_work_are_refused_naming_the_setting(tmp_path, toml, setting):
    path = tmp_path / "s.toml"
    path.write_text(toml)
    with pytest.raises(SettingsError, match=setting.replace(".", r"\.")):
        load_settings(path, env={})


def test_serve_on_a_busy_port_is_one_line_naming_the_setting_exit_2(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run([bin_path("shopsync"), "serve"], SHOPSYNC_GRPC_ADDRESS=f"127.0.0.1:{port}",
                   SHOPSYNC_QUEUE_DATABASE=f"sqlite:///{tmp_path / 'q.db'}", SHOPSYNC_SYNC_WORKERS="false",
                   SHOPSYNC_WEBHOOKS_ADDRESS=f"127.0.0.1:{free_port()}")
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("shopsync")]
    assert len(lines) == 1 and "grpc.address" in lines[0] and "Traceback" not in done.stderr


CLOSED_PIPE = """
import os, sys
read_end, write_end = os.pipe()
os.close(read_end)  # the reader (`| head`) has gone
sys.stdout = os.fdopen(write_end, "w", buffering=1)
from shopsync.server.cli import main
print("exit", main(["erp", "init-demo", sys.argv[1], "--products", "3"]), file=sys.stderr)
"""


def test_output_into_a_closed_pipe_is_no_error(tmp_path):
    """`shopsync ... | head`: the reader is gone when we print; that is no error of ours."""
    done = subprocess.run([sys.executable, "-c", CLOSED_PIPE, str(tmp_path / "erp.db")], capture_output=True,
                          text=True, timeout=60, env=env_with())
    assert "exit 0" in done.stderr, done.stderr
    assert "Broken pipe" not in done.stderr and "Traceback" not in done.stderr


def test_hook_flush_takes_no_arguments():
    done = run([bin_path("erp-hook"), "flush", "extra"])
    assert done.returncode == 2 and "flush takes no" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_hook_refuses_a_mistyped_setting_as_the_server_does(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[hooks]\nspol = "x.jsonl"\n')
    done = run([bin_path("erp-hook"), "stock-changed", "1", "--config", str(path)])
    assert done.returncode == 2 and "hooks.spol" in done.stderr
    with pytest.raises(SettingsError, match="hooks.spol"):
        load_settings(path, env={})


def test_hook_knows_the_servers_keys():
    for section, keys in KNOWN_KEYS.items():
        assert keys == {f.name for f in dataclasses.fields(getattr(Settings(), section))}, section


HOLD = """
import sys, time
from pathlib import Path
from erp_hooks.spool import Spool
with Spool(Path(sys.argv[1]))._locked(5):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_a_held_spool_lock_is_never_taken_over_and_dies_with_its_holder(tmp_path):
    spool = Spool(tmp_path / "spool.jsonl")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(spool.path)], stdout=subprocess.PIPE, text=True,
                              env=env_with())
    try:
        assert holder.stdout.readline().strip() == "locked"
        old = time.time() - 3600
        os.utime(spool.lock_path, (old, old))  # an old lock file means nothing while its holder lives
        with pytest.raises(SpoolLocked):
            spool.append({"n": 1}, wait_seconds=0.3)
        holder.kill()
        holder.wait()
        spool.append({"n": 2}, wait_seconds=2)  # the system released the dead holder's lock
    finally:
        holder.kill()
    assert [json.loads(line)["n"] for line in spool.path.read_text().splitlines()] == [2]


def test_an_event_appended_during_a_replay_is_kept(tmp_path):
    spool = Spool(tmp_path / "spool.jsonl")
    for n in range(3):
        spool.append({"n": n})
    appender = threading.Thread(target=lambda: spool.append({"n": 99}, wait_seconds=10))

    def send(event: dict) -> bool:
        if event["n"] == 0:
            appender.start()  # another hook appends while this replay holds the spool
            time.sleep(0.2)
        return event["n"] != 2

    assert spool.replay(send) == (2, 1)
    appender.join()
    assert [json.loads(line)["n"] for line in spool.path.read_text().splitlines()] == [2, 99]


def test_replay_is_bounded(tmp_path):
    spool = Spool(tmp_path / "spool.jsonl")
    for n in range(30):
        spool.append({"n": n})
    assert spool.replay(lambda e: True, max_events=10) == (10, 20)
    assert spool.replay(lambda e: True, max_seconds=0) == (0, 20)
    assert spool.replay(lambda e: True) == (20, 0)


def test_a_local_queue_belongs_to_one_server_and_its_leases_come_back_at_start(tmp_path):
    """A crashed run's claimed messages are queued again at once, not after queue.lease_seconds;
    a second server on the same SQLite queue is refused in one line."""
    from shopsync.server.queue.store import QueueStore
    from shopsync.server.runtime import Runtime

    db = tmp_path / "q.db"
    crashed = QueueStore.from_url(f"sqlite:///{db}")
    crashed.enqueue("outbox", "product", {"n": 1}, entity_key="product:1")
    assert crashed.claim("outbox", limit=1, lease_seconds=600)  # claimed, never settled: the run died
    crashed.close()
    env = {"SHOPSYNC_QUEUE_DATABASE": f"sqlite:///{db}", "SHOPSYNC_SYNC_WORKERS": "false"}
    rt = Runtime(load_settings(None, env=env))
    rt.open()
    try:
        [m] = rt.store.claim("outbox", limit=1)
        assert m.payload == {"n": 1}
        second = run([bin_path("shopsync"), "serve"], SHOPSYNC_GRPC_ADDRESS=f"127.0.0.1:{free_port()}",
                     SHOPSYNC_WEBHOOKS_ADDRESS=f"127.0.0.1:{free_port()}", **env)
        assert second.returncode == 2 and "in use by another shopsync server" in second.stderr, second.stderr
    finally:
        rt.close()


def test_console_password_hash_from_stdin_and_the_service_command_off_windows(tmp_path):
    from argon2 import PasswordHasher

    done = subprocess.run([bin_path("shopsync"), "console", "hash-password"], input="dlugie-haslo-123\n",
                          capture_output=True, text=True, timeout=30, env=env_with())
    assert done.returncode == 0, done.stderr
    assert PasswordHasher().verify(done.stdout.strip(), "dlugie-haslo-123")
    assert "dlugie-haslo-123" not in done.stdout + done.stderr
    short = subprocess.run([bin_path("shopsync"), "console", "hash-password"], input="krotkie\n",
                           capture_output=True, text=True, timeout=30, env=env_with())
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    service = subprocess.run([bin_path("shopsync"), "service", "install"], capture_output=True, text=True,
                             timeout=30, env=env_with())
    assert service.returncode == 2 and "Windows-only" in service.stderr and "Traceback" not in service.stderr


def test_the_old_erp_writer_is_read_as_erp_mode_with_a_notice(tmp_path):
    from shopsync.server.settings import SettingsError, load_settings

    cfg = tmp_path / "s.toml"
    cfg.write_text('[erp]\nwriter = "webapi"\nwebapi_app_key = "k"\nwebapi_department = "Sklep"\n')
    s = load_settings(cfg, env={})
    assert s.erp.mode == "webapi" and any("erp.writer is read as erp.mode" in n for n in s.notices)
    cfg.write_text('[erp]\nwriter = "webapi"\nmode = "sql"\n')
    with pytest.raises(SettingsError, match="erp.writer is now erp.mode"):
        load_settings(cfg, env={})
    cfg.write_text('[erp]\nmode = "odbc"\n')
    with pytest.raises(SettingsError, match="erp.mode must be sql or webapi"):
        load_settings(cfg, env={})


def test_with_the_feeds_the_periodic_catch_up_is_a_daily_repair_net():
    from shopsync.server.runtime import FEEDS_CATCH_UP_SECONDS, Runtime

    base = Settings()
    webapi = base.replace(erp={"mode": "webapi", "webapi_app_key": "k", "webapi_department": "Sklep"})
    assert Runtime.catch_up_interval(base, False) == 300
    assert Runtime.catch_up_interval(webapi, True) == FEEDS_CATCH_UP_SECONDS
    assert Runtime.catch_up_interval(webapi.replace(erp={"feed_interval_seconds": 0}), True) == 300
    assert Runtime.catch_up_interval(webapi.replace(sync={"catch_up_interval_seconds": 0}), True) == 0
    assert Runtime.catch_up_interval(webapi.replace(sync={"catch_up_interval_seconds": 7 * 86400}), True) == 7 * 86400


def test_a_demo_command_without_its_extra_says_which_extra_to_install(tmp_path):
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['fpdf'] = None  # as if not installed\n")
    pythonpath = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    done = run([bin_path("shopsync"), "erp", "webapi-sim", "--db", str(tmp_path / "none.db"), "--port", "0"],
               SHOPSYNC_SIM_APP_KEY="demo-key", PYTHONPATH=pythonpath)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "shopsync[demo]" in done.stdout and "fpdf2" in done.stdout and "Traceback" not in done.stderr
