"""What `pip install .` puts into a user's virtualenv: the project's own names, no `server` or `demo`."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_installs_no_top_level_package_with_a_generic_name(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = tmp_path.glob("symfonia_shopsync-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert tops == {"shopsync", "erp_hooks", "shop_client", "demo_shop"}, tops
    assert "shopsync/server/sync/orders.py" in names and "shopsync/demo/commands.py" in names
    assert "erp_hooks/symfonia/produkty.txt" in names or any(n.startswith("erp_hooks/symfonia/") for n in names)
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    points = zipfile.ZipFile(wheel).read(entry).decode()
    assert "shopsync = shopsync.server.cli:main" in points and "shopsync.demo.commands:register" in points
