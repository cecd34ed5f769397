"""Running the app: waitress for one process, gunicorn for several.

Both are set from the same settings so that an idle or slow client holds a
connection slot (cheap, many) and never a request thread (few). Several
processes run under gunicorn, which supervises them, with waitress inside each
worker (:mod:`locator.web.gworker`) doing the connection handling, since
waitress reads whole requests on its event loop before a thread sees them.
Behind nginx (``docs/deploy.md``) nginx buffers slow clients as well.
"""

from __future__ import annotations

import ipaddress
import os
import signal
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    name = host.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_public_url(cfg: Mapping[str, Any], host: str) -> None:
    """Refuse to serve other machines without ``PUBLIC_URL``.

    Links kept by other sites (OGC, oEmbed, OpenAPI servers, embed snippets)
    must not be built from a ``Host`` header a client chose.
    """
    if is_loopback(host) or str(cfg.get("PUBLIC_URL") or "").strip():
        return
    msg = (f"serving on {host} (not loopback) needs PUBLIC_URL, e.g. "
           "LOCATOR_PUBLIC_URL=https://map.example.org: links in OGC, oEmbed and OpenAPI "
           "answers are built from it, never from the request's Host header")
    raise SystemExit(msg)


def waitress_options(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """waitress keyword arguments from the serving settings."""
    return {
        "threads": int(cfg["THREADS"]),
        "write_threads": int(cfg["WRITE_THREADS"]),
        "connection_limit": int(cfg["CONNECTION_LIMIT"]),
        "channel_timeout": int(cfg["IDLE_TIMEOUT"]),
        # select() cannot watch more than 1024 sockets; poll() can.
        "asyncore_use_poll": True,
        "max_request_header_size": int(cfg["MAX_HEADER_BYTES"]),
        # A client that reads its answer slowly must not keep a thread: waitress buffers
        # the answer and the thread moves on; the channel times out like an idle one.
        "cleanup_interval": max(1, int(cfg["IDLE_TIMEOUT"]) // 2),
        "ident": "locator",
    }


def gunicorn_options(cfg: Mapping[str, Any], *, bind: str, workers: int,
                     threads: int) -> dict[str, Any]:
    """gunicorn settings from the serving settings (waitress's go through the environment)."""
    return {
        "bind": bind,
        "workers": workers,
        "threads": threads,
        "worker_class": "locator.web.gworker.WaitressWorker",
        # A worker whose heartbeat stops this long is killed and replaced.
        "timeout": int(cfg["REQUEST_TIMEOUT"]),
        "graceful_timeout": 10,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "locator",
    }


def run_waitress(app: Flask, *, host: str, port: int, threads: int) -> None:
    from waitress import serve

    from locator.web import heads

    opts = waitress_options(app.config)
    opts["threads"] = threads
    signal.signal(signal.SIGTERM, _stop)
    serve(app, host=host, port=port, _server=heads.create_server, **opts)


def _stop(signum: int, frame: Any) -> None:
    """Stop as the default action does, once a fetched snapshot is complete on disk.

    Only that wait is added: left half-written, the host would fetch the
    snapshot again at its next start. Requests and planner jobs under way end
    with the process, as before.
    """
    from locator.stations import served

    served.settle(timeout=60.0)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def run_gunicorn(factory: Callable[[], Flask], cfg: Mapping[str, Any], *, host: str, port: int,
                 workers: int, threads: int) -> None:
    """Serve with gunicorn; each worker builds its own app after the fork.

    Building after the fork keeps database connections, thread pools and
    watchers private to each worker.
    """
    import importlib
    import json

    from gunicorn.app.base import BaseApplication

    from locator.web.gworker import ENV_OPTIONS

    # The modules (not the app) are imported once in the master: each worker
    # forked from it, first or replacement, then skips the imports and only
    # builds its app and maps the served snapshot.
    for module in ("locator.web.views.admin", "locator.web.views.api",
                   "locator.web.views.planner", "locator.web.views.ogc"):
        importlib.import_module(module)

    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    options = gunicorn_options(cfg, bind=bind, workers=workers, threads=threads)
    waitress = waitress_options(cfg)
    waitress["threads"] = threads
    os.environ[ENV_OPTIONS] = json.dumps(waitress)

    class _App(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return factory()

    _App().run()
