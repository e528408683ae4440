"""Shared fixtures: a real PostgreSQL started once per run, fresh queues per test."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from server.queue.store import Backoff, QueueStore  # noqa: E402
from tests.helpers.postgres import PostgresServer  # noqa: E402

_db_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres():
    server = PostgresServer().start()
    yield server
    server.stop()


def new_pg_url(postgres: PostgresServer) -> str:
    return postgres.create_database(f"t{next(_db_counter)}")


@pytest.fixture(params=["sqlite", "postgres"])
def queue_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.db'}"
    return new_pg_url(request.getfixturevalue("postgres"))


@pytest.fixture
def store(queue_url):
    s = QueueStore.from_url(queue_url, backoff=Backoff(base=0.2, cap=0.5, max_attempts=3))
    yield s
    s.close()
