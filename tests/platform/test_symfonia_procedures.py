"""The shipped Symfonia procedure sets and docs/symfonia.md name only hook events the program accepts."""

from __future__ import annotations

import re
from pathlib import Path

from erp_hooks.cli import EVENT_KINDS

ROOT = Path(__file__).resolve().parents[2]
PROCEDURES = ROOT / "erp_hooks" / "symfonia"
DOC = (ROOT / "docs" / "symfonia.md").read_text(encoding="utf-8")


def test_every_procedure_file_is_referenced_and_runs_known_events_only():
    files = sorted(PROCEDURES.glob("*.txt"))
    assert len(files) >= 6
    for f in files:
        assert f"`{f.name}`" in DOC, f"{f.name} is not in docs/symfonia.md"
        text = f.read_text(encoding="utf-8")
        events = re.findall(r'RunShopsyncHook\("([a-z-]+)", lId\)', text)
        assert events, f"{f.name} runs no hook"
        assert set(events) <= set(EVENT_KINDS), f"{f.name}: unknown events {set(events) - set(EVENT_KINDS)}"
        assert "Run(" in text and ", 0, 0)" in text, f"{f.name} must start the hook hidden and not wait"


def test_every_event_named_in_the_docs_is_accepted_by_the_hook():
    named = set(re.findall(r"`erp-hook ([a-z-]+) <", DOC))
    assert named, "docs/symfonia.md names no hook commands"
    assert named <= set(EVENT_KINDS), f"docs name events the hook refuses: {named - set(EVENT_KINDS)}"
    assert set(EVENT_KINDS) <= named, f"events the docs do not explain: {set(EVENT_KINDS) - named}"
