"""A queue worker process for the contract tests.

    python -m tests.helpers.queue_worker URL claim-and-hang READY_FILE
        claim one outbox message, write its id to READY_FILE, then sleep (to be SIGKILLed)
    python -m tests.helpers.queue_worker URL deliver LOG_FILE
        claim outbox messages until the queue is empty, append "id start end" per delivery
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from shopsync.server.queue.store import QueueStore


def main() -> None:
    url, mode, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    store = QueueStore.from_url(url)
    if mode == "claim-and-hang":
        msgs = store.claim("outbox", limit=1, lease_seconds=1.0)
        out.write_text(str(msgs[0].id) if msgs else "none")
        time.sleep(3600)
    elif mode == "deliver":
        idle = 0
        with out.open("a") as log:
            while idle < 20:
                msgs = store.claim("outbox", limit=5, lease_seconds=30)
                if not msgs:
                    idle += 1
                    time.sleep(0.02)
                    continue
                idle = 0
                for m in msgs:
                    start = time.time()
                    time.sleep(0.002)  # the "delivery"
                    log.write(f"{m.id} {start} {time.time()}\n")
                    log.flush()
                store.ack(msgs)
    store.close()


if __name__ == "__main__":
    main()
