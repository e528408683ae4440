"""A headless Debian Chromium driven by selenium (apt chromium + chromium-driver; nothing downloaded)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


def chrome(tmp_path: Path, lang: str = "en-US"):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not browser or not driver_path:
        pytest.fail("the browser test needs Debian's chromium and chromium-driver (`make test` installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1280,2000", f"--lang={lang}",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": lang})
    return webdriver.Chrome(service=Service(driver_path, log_output=str(tmp_path / "chromedriver.log")),
                            options=options)
