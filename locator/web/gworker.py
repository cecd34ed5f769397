"""A gunicorn worker that serves with waitress.

gunicorn runs the processes (start, heartbeat, restart of a hung or dead
worker, graceful stop); inside each worker waitress handles the connections.
waitress reads a whole request on its event loop before a thread sees it, so
idle clients and clients trickling their headers a byte at a time cost a
socket each and never a request thread. gunicorn's own threaded worker gives
a thread to a connection as soon as it has any byte and blocks it until the
headers are complete, which lets a few hundred slow clients stall it.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from gunicorn.workers.base import Worker

from locator.web.heads import create_server

# Worker settings travel from `locator serve` through the environment of the
# master, which every forked worker inherits.
ENV_OPTIONS = "LOCATOR_WAITRESS_OPTIONS"


class WaitressWorker(Worker):
    """Run waitress on the listening sockets gunicorn shares with its workers."""

    def run(self) -> None:
        import json

        options: dict[str, Any] = json.loads(os.environ.get(ENV_OPTIONS, "{}"))
        server = create_server(self.wsgi, sockets=[s.sock for s in self.sockets], **options)
        beat = threading.Thread(target=self._heartbeat, args=(server,), daemon=True,
                                name="locator-heartbeat")
        beat.start()
        server.run()

    def _heartbeat(self, server: Any) -> None:
        parent = self.ppid
        while self.alive:
            self.notify()
            if os.getppid() != parent:
                break
            time.sleep(1.0)
        # Stop taking connections, let running requests finish, then leave.
        server.close()
        server.task_dispatcher.shutdown(timeout=float(self.cfg.graceful_timeout))
        os._exit(0)
