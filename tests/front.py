"""nginx in front of two ``locator serve`` processes: reads to one, writes to the other.

The layout docs/deploy.md describes under "Reads apart from writes": both are
ordinary servers on one data folder (so one living database), and nginx only
chooses which one answers by the request's method. With ``pin`` each side
keeps CPUs of its own, as systemd's ``AllowedCPUs=`` would give them. Each
answer names the server that gave it in ``X-Upstream`` (this front's own
header, not the documented configuration's).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.liveserver import live_server, on_cpus
from tests.servers import free_port

CONF = """\
worker_processes 1;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    map $request_method $locator_upstream {{
        default locator_write;
        GET     locator_read;
        HEAD    locator_read;
        OPTIONS locator_read;
    }}
    upstream locator_read  {{ server 127.0.0.1:{read}; keepalive 32; }}
    upstream locator_write {{ server 127.0.0.1:{write}; keepalive 32; }}
    server {{
        listen 127.0.0.1:{port};
        keepalive_requests 100000;
        client_max_body_size 1m;
        location / {{
            proxy_pass http://$locator_upstream;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_buffering on;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


class CookieClient:
    """A small HTTP client that keeps the session cookie itself (it is ``Secure``, and
    urllib's jar would not send it back over plain loopback HTTP)."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}

    def call(self, method: str, path: str, body: dict | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict, Any]:
        """(status, JSON body or ``{"text": ...}``, response headers)."""
        import json
        import urllib.error
        import urllib.request

        data = json.dumps(body).encode() if body is not None else None
        h = {"Content-Type": "application/json", **(headers or {})}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=h)
        try:
            resp = urllib.request.urlopen(req, timeout=60)
        except urllib.error.HTTPError as err:
            resp = err
        for c in resp.headers.get_all("Set-Cookie") or []:
            k, _, rest = c.partition("=")
            self.cookies[k.strip()] = rest.split(";", 1)[0]
        raw = resp.read()
        ctype = resp.headers.get("Content-Type", "")
        return resp.status, json.loads(raw) if "json" in ctype else {"text": raw.decode()}, \
            resp.headers


def nginx_path() -> str | None:
    """nginx's program, also where ``/usr/sbin`` is not on the ``PATH``."""
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    return found if Path(found).exists() else None


@dataclass(frozen=True)
class Front:
    """Where the split deployment listens and which CPUs each side keeps."""

    port: int
    data_dir: Path
    read_cpus: set[int] | None
    write_cpus: set[int] | None


def cpu_halves() -> tuple[set[int], set[int]] | None:
    """This process's CPUs in two: the first half for reads, the rest for writes.

    ``None`` on a single CPU, where there is nothing to keep apart.
    """
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    half = len(cpus) // 2
    return set(cpus[:half]), set(cpus[half:])


def _wait_ready(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextlib.contextmanager
def split_front(env: dict[str, str], *, workers: int = 1, pin: bool = False,
                data_dir: Path | None = None) -> Iterator[Front]:
    """nginx on a free port before a read server (``workers`` processes) and a write server.

    With ``pin`` (and two CPUs or more) the read server keeps the first half
    of the CPUs and the write server and nginx the rest. Both serve
    ``data_dir`` (a new folder by default).
    """
    nginx = nginx_path()
    if nginx is None:
        sys.exit("nginx is not installed (Debian package nginx-light)")
    halves = cpu_halves() if pin else None
    read_cpus, write_cpus = halves if halves else (None, None)
    tmp = Path(tempfile.mkdtemp(prefix="locator-front-"))
    data = data_dir or tmp / "var"
    env = {**env, "LOCATOR_DATA_DIR": str(data), "LOCATOR_TRUSTED_PROXIES": "127.0.0.1"}
    # The writer starts first and prepares the data folder the reader then finds ready.
    with live_server(env=env, workers=1, cpus=write_cpus) as write, \
            live_server(env=env, workers=workers, cpus=read_cpus) as read:
        port = free_port()
        conf = tmp / "nginx.conf"
        # nginx run as root would switch its workers to "nobody", who cannot read tmp.
        user = "user root;" if os.geteuid() == 0 else ""
        conf.write_text(CONF.format(user=user, tmp=tmp, read=read.port, write=write.port,
                                    port=port))
        subprocess.run(on_cpus([nginx, "-p", str(tmp), "-c", str(conf)], write_cpus), check=True)
        try:
            _wait_ready(port)
            yield Front(port, data, read_cpus, write_cpus)
        finally:
            subprocess.run([nginx, "-p", str(tmp), "-c", str(conf), "-s", "stop"],
                           check=False, capture_output=True)
