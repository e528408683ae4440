"""Logging set-up: one line per event, and configured secrets never printed."""

from __future__ import annotations

import logging
from typing import Iterable


class RedactSecrets(logging.Filter):
    """Replace every configured secret in a record's final message with ***."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = f"{record.msg} {record.args}"
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        changed = False
        for s in self.secrets:
            if s in message:
                message = message.replace(s, "***")
                changed = True
            if record.exc_text and s in record.exc_text:
                record.exc_text = record.exc_text.replace(s, "***")
        if changed:
            record.msg, record.args = message, None
        return True


def setup_logging(level: str = "INFO", secrets: Iterable[str] = (), file: str = "") -> None:
    """One line per event on stderr and, with `file`, in a file rotated at 10 MB (5 kept)."""
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if file:
        from logging.handlers import RotatingFileHandler
        from pathlib import Path

        Path(file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(RotatingFileHandler(file, maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8"))
    redact = RedactSecrets(secrets)
    for handler in handlers:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
        handler.addFilter(redact)
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "waitress", "peewee", "cheroot", "werkzeug"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
