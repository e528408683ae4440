"""The two doors of the HTTP application, and how a view says which one it is served at."""

from __future__ import annotations

from typing import Any, Callable

INTAKE, CONSOLE = "intake", "console"
DOOR_KEY = "shopsync.door"  # the WSGI environ key the door's server sets


def at_door(door: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a view as served only at one door."""
    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.door = door  # type: ignore[attr-defined]
        return fn
    return mark
