"""The plugin's package: what `make wp-plugin` builds is what WordPress's "Upload plugin" takes."""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.helpers.servers import ROOT

PLUGIN = ROOT / "wp-plugin" / "shopsync-woocommerce"
WP_POMO = Path("/usr/share/wordpress/wp-includes/pomo/mo.php")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    done = subprocess.run(["make", "-s", "wp-plugin"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return ROOT / "dist" / "shopsync-woocommerce.zip"


def test_the_zip_holds_one_plugin_folder_with_its_headers(built):
    with zipfile.ZipFile(built) as z:
        names = z.namelist()
        main = z.read("shopsync-woocommerce/shopsync-woocommerce.php").decode()
        readme = z.read("shopsync-woocommerce/readme.txt").decode()
    assert all(n.startswith("shopsync-woocommerce/") for n in names)
    assert "shopsync-woocommerce/uninstall.php" in names
    assert "shopsync-woocommerce/languages/shopsync-woocommerce-pl_PL.mo" in names
    for header in ("Plugin Name:", "Version:", "Requires PHP:", "Text Domain:       shopsync-woocommerce",
                   "WC requires at least:"):
        assert header in main
    assert readme.startswith("=== shopsync for WooCommerce ===") and "Stable tag: 0.1.0" in readme


def test_every_php_file_passes_php_lint():
    for php in PLUGIN.rglob("*.php"):
        done = subprocess.run(["php", "-l", str(php)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout


def test_uninstall_removes_every_option_and_the_plugin_makes_no_tables():
    settings = (PLUGIN / "includes" / "class-shopsync-settings.php").read_text()
    options = set(re.findall(r"'(shopsync_[a-z_]+)'\s*=>", settings))
    uninstall = (PLUGIN / "uninstall.php").read_text()
    assert options and all(f"'{o}'" in uninstall for o in options), options
    code = "".join(p.read_text() for p in PLUGIN.rglob("*.php"))
    assert "CREATE TABLE" not in code.upper() and "dbDelta" not in code


def test_the_polish_translation_covers_every_string_and_wordpress_reads_it(built):
    pot = (PLUGIN / "languages" / "shopsync-woocommerce.pot").read_text()
    stats = subprocess.run(["msgfmt", "--statistics", "-o", "/dev/null",
                            str(PLUGIN / "languages" / "shopsync-woocommerce-pl_PL.po")],
                           capture_output=True, text=True)
    total = len(re.findall(r"^msgid \"(?!\")", pot, re.M)) + len(re.findall(r'^msgid ""\n"', pot, re.M))
    assert f"{total} translated messages." in stats.stderr, (total, stats.stderr)
    script = (f"require '{WP_POMO}'; $m = new MO(); $m->import_from_file('{PLUGIN}/languages/"
              "shopsync-woocommerce-pl_PL.mo'); echo $m->translate('Paired with contractor %s'), '|', "
              "$m->translate('The NIP is not valid: enter the 10 digits of the company\\'s tax id (a PL prefix, "
              "spaces and dashes are fine), or leave the field empty.');")
    out = subprocess.run(["php", "-r", script], capture_output=True, text=True).stdout
    assert out.startswith("Powiązany z kontrahentem %s|Nieprawidłowy NIP"), out


def test_the_plugins_nip_check_agrees_with_the_sync():
    """The checkout refuses exactly the NIPs the sync could not pair by (same checksum, same spellings)."""
    from shopsync.demo import data as demo_data
    from shopsync.server.nip import valid_nip_or_none

    typed = [c.nip_typed for c in demo_data.contractors()[:10]]
    typed += ["123-456-78-90", "5260250995", "PL5260250995", "pl 526 025 09 95", "526025099", "52602509950",
              "5260250994", "0000000000", "abc", "", "PL", "526-025-09-95 "]
    script = ("define('ABSPATH', '/'); require '" + str(PLUGIN / "includes" / "class-shopsync-nip.php") + "';"
              "foreach (json_decode(stream_get_contents(STDIN)) as $v) { echo Shopsync_Nip::normalize($v), \"\\n\"; }")
    import json

    out = subprocess.run(["php", "-r", script], input=json.dumps(typed), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:len(typed)] == [valid_nip_or_none(v) or "" for v in typed]
