"""Served snapshots kept in PostgreSQL, so that a new host maps one instead of building it.

Building a version's snapshot from its rows (copy them out, parse, normalise,
index) takes tens of seconds at a million stations, and without this every
host would pay it for every version: each new web host, container or
replacement machine behind the load balancer. The first host to build a
snapshot, normally the one that ran ``locator import`` (which prepares it),
leaves its arrays and columns here, compressed with zstd in parts of
:data:`PART_BYTES`; every other host fetches them, which is mostly a copy.

The k-NN trees do not travel: each host builds its own from the fetched
arrays, so nothing taken from the database is ever unpickled. A snapshot is
listed in ``snapshot_shared`` only in the transaction that stored all of its
parts, and it is dropped with its version (``ON DELETE CASCADE``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import sqlalchemy as sa

from locator.stations import snapshot
from locator.storage import pgcopy

log = logging.getLogger(__name__)
PART_BYTES = 32 << 20
CODEC = "zstd"
# Level 1 compresses the columns about fourfold at several hundred MB/s; higher
# levels gain little on this text and cost the host that uploads.
LEVEL = 1
_LOCK_CLASS = 0x10CA  # pg_advisory_xact_lock(class, hashtext(version)): one uploader


class PgShared:
    """:class:`~locator.stations.snapshot.Shared` for one version, in one database."""

    def __init__(self, engine: sa.Engine, version: str) -> None:
        self.engine = engine
        self.version = version

    def get(self, *, ready: Callable[[Mapping[str, Any]], None] | None = None
            ) -> snapshot.Fetched | None:
        """The version's shared files, in memory, and its meta; None if there are none.

        ``ready(files)`` is called once the arrays are in, before the columns.
        """
        try:
            return self._get(ready)
        except Exception as exc:  # a missing or unreadable copy: this host builds its own
            log.warning("could not fetch the shared snapshot of %s: %s", self.version, exc)
            return None

    def put(self, folder: Path) -> None:
        """Store the finished snapshot ``folder`` unless the version has one already."""
        try:
            self._put(folder)
        except Exception as exc:  # other hosts will build their own
            log.warning("could not share the snapshot of %s: %s", self.version, exc)

    def _get(self, ready: Callable[[Mapping[str, Any]], None] | None
             ) -> snapshot.Fetched | None:
        with pgcopy.long_transaction(self.engine) as cur:
            cur.execute("SELECT files, meta FROM snapshot_shared WHERE version = %s "
                        "AND format = %s", (self.version, snapshot.FORMAT))
            row = cur.fetchone()
            if row is None:
                return None
            listing, meta = row
            got: dict[str, pa.Buffer] = {}
            # The arrays first (jsonb keeps its keys in an order of its own): a
            # host can build its trees from them while the columns arrive.
            for name in sorted(listing, key=lambda n: (not n.startswith("arrays/"), n)):
                snapshot.check_travelling(name)
                if ready is not None and not name.startswith("arrays/"):
                    ready(got)
                    ready = None
                got[name] = self._file(cur, name, int(listing[name]))
        return snapshot.Fetched(got, dict(meta))

    def _file(self, cur: Any, name: str, size: int) -> pa.Buffer:
        """One shared file, its parts decompressed into one buffer."""
        out = pa.allocate_buffer(size)
        view = np.frombuffer(out, dtype=np.uint8)
        at = 0
        cur.execute("SELECT size, data FROM snapshot_parts WHERE version = %s "
                    "AND format = %s AND file = %s ORDER BY part",
                    (self.version, snapshot.FORMAT, name), binary=True)
        for part_size, data in cur:
            if at + part_size > size:
                msg = f"{name} has more bytes than its listing's {size}"
                raise ValueError(msg)
            part = pa.decompress(data, decompressed_size=part_size, codec=CODEC)
            view[at:at + part_size] = np.frombuffer(part, dtype=np.uint8)
            at += part_size
        if at != size:
            msg = f"{name} has {at} bytes, its listing says {size}"
            raise ValueError(msg)
        return out

    def _put(self, folder: Path) -> None:
        meta = snapshot.read_meta(folder)
        if meta is None:
            return
        with pgcopy.long_transaction(self.engine) as cur:
            # Hosts that built the same version at once: one stores it, the others
            # find it stored and leave.
            cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                        (_LOCK_CLASS, self.version))
            cur.execute("SELECT 1 FROM snapshot_shared WHERE version = %s AND format = %s",
                        (self.version, snapshot.FORMAT))
            if cur.fetchone() is not None:
                return
            files = {name: self._store(cur, folder / name, name)
                     for name in snapshot.travelling(folder)}
            cur.execute("INSERT INTO snapshot_shared (version, format, files, meta) "
                        "VALUES (%s, %s, %s, %s)",
                        (self.version, snapshot.FORMAT, json.dumps(files), json.dumps(meta)))

    def _store(self, cur: Any, path: Path, name: str) -> int:
        """Store one file in compressed parts; its size."""
        size = 0
        codec = pa.Codec(CODEC, compression_level=LEVEL)
        with path.open("rb") as fh:
            part = 0
            while chunk := fh.read(PART_BYTES):
                cur.execute("INSERT INTO snapshot_parts (version, format, file, part, size, data) "
                            "VALUES (%s, %s, %s, %s, %s, %b)",
                            (self.version, snapshot.FORMAT, name, part, len(chunk),
                             codec.compress(chunk, asbytes=True)))
                size += len(chunk)
                part += 1
        return size
