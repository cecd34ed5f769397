"""Build the wheel, install it in a fresh venv away from the checkout, and serve from it.

Checks that ``pip install .`` alone gives a working server: pages, static
files, the embedded demo data and the nearest API.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=20) as r:  # noqa: S310
        return r.status, r.read()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="locator-wheel-") as tmp:
        t = Path(tmp)
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w",
                        str(t / "dist"), str(HERE)], check=True)
        wheel = next((t / "dist").glob("locator-*.whl"))
        subprocess.run([sys.executable, "-m", "venv", str(t / "venv")], check=True)
        py = t / "venv" / "bin" / "python"
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", str(wheel)], check=True)
        port = free_port()
        env = {"PATH": "/usr/bin:/bin", "HOME": str(t), "LOCATOR_DATA_RELOAD_SECONDS": "0"}
        server = subprocess.Popen([str(t / "venv" / "bin" / "locator"), "serve", "--port",
                                   str(port)], cwd=t, env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(120):
                try:
                    get(base + "/api/v1/health")
                    break
                except OSError:
                    time.sleep(0.5)
            status, page = get(base + "/")
            assert status == 200 and "演示数据" in page.decode(), "worker page"
            status, css = get(base + "/static/css/locator.css")
            assert status == 200 and css, "static files"
            status, body = get(base + "/api/v1/nearest?lat=34.7536&lon=113.6645&k=3")
            features = json.loads(body)["features"]
            assert status == 200 and len(features) == 3, "nearest"
            print(f"wheel check: {wheel.name} serves pages, static files and nearest from {t}")
        finally:
            server.terminate()
            server.wait(20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
