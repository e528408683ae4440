"""The image report's actions (erp-hook image show|set|delete) as real hook processes against a real server,
the demo company and the local shop over HTTP: the shop's main image follows; with the server down a change
is spooled and applied once it is back."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from tests.helpers.images import make_png
from tests.helpers.servers import bin_path, env_with
from tests.helpers.stack import Stack, wait_until

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) + b"\xff\xd9"


def image_hook(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([bin_path("erp-hook"), "image", *args, "--config", str(stack.config)],
                          capture_output=True, text=True, timeout=60, env=env_with())


@pytest.fixture(params=["sql", "webapi"])
def stack(request, tmp_path):
    """Both ERP modes: over SQL the image is kept in the company database (HM.ShopsyncImages); through the
    WebAPI, in the sync's own store (nothing is written to the company database)."""
    s = Stack(tmp_path, products=10, erp_writer=request.param).start_server()
    yield s
    s.close()


def company_images(stack: Stack) -> int:
    with stack.erp.unit_of_work() as cur:
        return int(cur.execute("SELECT COUNT(*) FROM HM.ShopsyncImages").fetchone()[0])


def shop_image(stack: Stack, code: str) -> bytes | None:
    url = stack.shop_product(code).image_url
    return httpx.get(url).content if url else None


def test_set_show_and_delete_reach_the_shop(stack, tmp_path):
    code = stack.erp.get_product(5).code
    stack.act(stack.sim.save_item(5))
    wait_until(lambda: stack.shop_product(code), message="in the shop")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(JPEG)
    done = image_hook(stack, "set", "5", str(photo))
    assert done.returncode == 0 and "is set" in done.stdout, done.stderr
    wait_until(lambda: shop_image(stack, code) == JPEG, message="the shop's main image is the file")
    assert company_images(stack) == (0 if stack.erp_writer == "webapi" else 1)
    shown = image_hook(stack, "show", "5", str(tmp_path / "shown.jpg"))
    assert shown.returncode == 0, shown.stderr
    assert (tmp_path / "shown.jpg").read_bytes() == JPEG
    assert image_hook(stack, "delete", "5").returncode == 0
    wait_until(lambda: stack.shop_product(code).image_url == "", message="removed from the shop")
    gone = image_hook(stack, "show", "5", str(tmp_path / "none.jpg"))
    assert gone.returncode == 5 and "no main image" in gone.stderr


def test_with_the_server_down_a_set_is_spooled_and_applied_when_it_is_back(stack, tmp_path):
    code = stack.erp.get_product(5).code
    stack.act(stack.sim.save_item(5))
    wait_until(lambda: stack.shop_product(code), message="in the shop")
    png = make_png((10, 200, 10), size=4)
    (tmp_path / "nowe.png").write_bytes(png)
    stack.stop_server()
    kept = image_hook(stack, "set", "5", str(tmp_path / "nowe.png"))
    assert kept.returncode == 0 and "kept" in kept.stdout, kept.stderr
    down = image_hook(stack, "show", "5", str(tmp_path / "x.png"))
    assert down.returncode == 5 and "cannot be reached" in down.stderr
    stack.start_server()
    flushed = subprocess.run([bin_path("erp-hook"), "flush", "--config", str(stack.config)], capture_output=True,
                             text=True, timeout=60, env=env_with())
    assert flushed.returncode == 0, flushed.stderr
    wait_until(lambda: shop_image(stack, code) == png, message="applied after the server came back")


@pytest.mark.parametrize("args, code, words", [
    (["set", "5", "README.md"], 2, "not a PNG, JPEG, GIF or WebP"),
    (["set", "999999", "PHOTO"], 2, "product id 999999 is not in"),
    (["show", "x"], 2, "ID must be"),
    (["resize", "5"], 2, "usage"),
])
def test_bad_input_gets_one_clear_line(stack, tmp_path, args, code, words):
    if "PHOTO" in args:
        (tmp_path / "p.jpg").write_bytes(JPEG)
        args = [a.replace("PHOTO", str(tmp_path / "p.jpg")) for a in args]
    if "README.md" in args:
        (tmp_path / "README.md").write_text("not an image")
        args = [a.replace("README.md", str(tmp_path / "README.md")) for a in args]
    done = image_hook(stack, *args)
    assert done.returncode == code and words in done.stderr, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
