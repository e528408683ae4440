"""Package the companion plugin: `make wp-plugin` -> dist/shopsync-woocommerce.zip (WordPress's "Upload plugin").

Checks every PHP file with `php -l` and compiles the translations (msgfmt) first; the zip holds one
folder, shopsync-woocommerce/, as WordPress expects.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLUGIN = HERE / "shopsync-woocommerce"
DIST = HERE.parent / "dist" / "shopsync-woocommerce.zip"


def lint() -> None:
    for php in sorted(PLUGIN.rglob("*.php")):
        done = subprocess.run(["php", "-l", str(php)], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{php.relative_to(HERE)}: {done.stdout.strip() or done.stderr.strip()}")


def compile_translations() -> None:
    for po in sorted((PLUGIN / "languages").glob("*.po")):
        subprocess.run(["msgfmt", "--check", "-o", str(po.with_suffix(".mo")), str(po)], check=True)


def build(target: Path = DIST) -> Path:
    lint()
    compile_translations()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".zip.part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(PLUGIN.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                z.write(path, Path(PLUGIN.name) / path.relative_to(PLUGIN))
    tmp.replace(target)
    return target


if __name__ == "__main__":
    print(f"wrote {build().relative_to(HERE.parent)}")
    sys.exit(0)
