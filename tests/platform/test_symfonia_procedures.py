"""The shipped Symfonia procedure sets and docs/symfonia.md name only hook events the program accepts."""

from __future__ import annotations

import re

import pytest
from pathlib import Path

from erp_hooks.cli import EVENT_KINDS

ROOT = Path(__file__).resolve().parents[2]
PROCEDURES = ROOT / "erp_hooks" / "symfonia"
DOC = (ROOT / "docs" / "symfonia.md").read_text(encoding="utf-8")


PROCEDURE_SETS = sorted(PROCEDURES.glob("procedury_*.txt"))
REPORT = PROCEDURES / "raport_zdjecie_towaru.txt"
# Event names Symfonia's help confirms for documents (sales, purchase, warehouse, customer and own orders).
EVIDENCED_DOCUMENT_EVENTS = {"OnAddNewDokument", "OnKhChanged", "OnBeforeInsert"}
DOCUMENT_SETS = {"procedury_dokumentu_magazynowego.txt", "procedury_dokumentu_sprzedazy.txt",
                 "procedury_zamowienia_obcego.txt"}


def test_every_procedure_file_is_referenced_and_runs_known_events_only():
    assert len(PROCEDURE_SETS) >= 6
    for f in PROCEDURE_SETS:
        assert f"`{f.name}`" in DOC, f"{f.name} is not in docs/symfonia.md"
        text = f.read_text(encoding="utf-8")
        events = re.findall(r'RunShopsyncHook\("([a-z-]+)", lId\)', text)
        assert events, f"{f.name} runs no hook"
        assert set(events) <= set(EVENT_KINDS), f"{f.name}: unknown events {set(events) - set(EVENT_KINDS)}"


@pytest.mark.parametrize("f", [*PROCEDURE_SETS, REPORT], ids=lambda f: f.name)
def test_procedures_use_only_the_evidenced_forms(f):
    """COM objects as public AmBasic makes them (Dispatch, then .Create), programs started with ShellExecute
    (no window, not waited for); never the initialiser form `dispatch x = "..."` seen nowhere."""
    text = f.read_text(encoding="utf-8")
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("'"))
    assert not re.search(r'(?i)\bdispatch\s+\w+\s*=', code), "the initialiser form is not evidenced"
    assert "WScript.Shell" not in code and ".Run(" not in code
    assert re.search(r"(?m)^\s*Dispatch sh$", code) and 'sh.Create("Shell.Application")' in code
    calls = re.findall(r"sh\.ShellExecute\(HOOK, (.+), \"\", \"open\", 0\)", code)
    assert calls, "the hook is started with ShellExecute, hidden (show 0)"


@pytest.mark.parametrize("f", PROCEDURE_SETS, ids=lambda f: f.name)
def test_document_sets_use_evidenced_event_names_and_the_rest_say_how_to_check_theirs(f):
    text = f.read_text(encoding="utf-8")
    names = set(re.findall(r"(?m)^int (\w+)\(long lId\)", text))
    if f.name in DOCUMENT_SETS:
        assert names and names <= EVIDENCED_DOCUMENT_EVENTS, f"{f.name}: {names - EVIDENCED_DOCUMENT_EVENTS}"
    else:
        assert "ASSUMPTION" in text and "shopsync hooks last" in text, "an unevidenced name is marked with a check"


def test_the_image_report_walks_the_selection_and_runs_each_image_action():
    text = REPORT.read_text(encoding="utf-8")
    assert "SetTaggedPos(FS)" in text and "SetTaggedPos(NX)" in text and "GetLineId()" in text
    assert "ExecForm" in text and "Form " in text
    for action in ("set", "delete", "show"):
        assert f'"{action}"' in text, action
    assert text.count('"image ') == 2 and "--dialog" in text
    assert f"`{REPORT.name}`" in DOC and "Zdjęcie towaru" in DOC


def test_the_hook_knows_the_image_actions_the_report_runs():
    import subprocess

    from tests.helpers.servers import bin_path, env_with

    helped = subprocess.run([bin_path("erp-hook"), "image", "-h"], capture_output=True, text=True, env=env_with())
    assert helped.returncode == 0
    for usage in ("image show ID [FILE]", "image set ID FILE", "image delete ID", "--dialog"):
        assert usage in helped.stdout


def test_every_event_named_in_the_docs_is_accepted_by_the_hook():
    named = set(re.findall(r"`erp-hook ([a-z-]+) <", DOC))
    assert named, "docs/symfonia.md names no hook commands"
    assert named <= set(EVENT_KINDS), f"docs name events the hook refuses: {named - set(EVENT_KINDS)}"
    assert set(EVENT_KINDS) <= named, f"events the docs do not explain: {set(EVENT_KINDS) - named}"
