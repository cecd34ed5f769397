"""gzip for text answers: workers load the map over weak mobile links.

A nearest answer for ten stations is ~36 KB of JSON, mostly percent-encoded
navigation URLs, and Leaflet is ~145 KB; gzip cuts both to a fraction.
Clients that do not send ``Accept-Encoding: gzip`` get the plain bytes.
"""

from __future__ import annotations

from flask import Flask
from flask_compress import Compress

MIMETYPES = ["application/json", "application/geo+json", "text/html", "text/css",
             "text/csv", "text/javascript", "application/javascript",
             "application/vnd.oai.openapi+json"]


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_ALGORITHM", ["gzip"])
    app.config.setdefault("COMPRESS_LEVEL", 5)
    app.config.setdefault("COMPRESS_MIN_SIZE", 1024)
    app.config.setdefault("COMPRESS_MIMETYPES", MIMETYPES)
    # Whole-dataset downloads stream; flask-compress cannot gzip a stream,
    # so those are deflated (which every browser and curl --compressed accept).
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["deflate"])
    # Validators are ours (tied to the dataset version), not the compressor's.
    app.config.setdefault("COMPRESS_EVALUATE_CONDITIONAL_REQUEST", False)
    Compress(app)
