"""Read layers from /ogc with QGIS's OAPIF provider and print what QGIS saw as JSON.

Run by ``tests/test_qgis_client.py`` with Debian's ``/usr/bin/python3`` (where
``python3-qgis`` installs PyQGIS), not with the project's virtualenv. It takes
one JSON argument ``{"profile": dir, "jobs": [...]}``; each job opens a fresh
layer from a data source URI built the way QGIS's "Add WFS / OGC API –
Features layer" dialog builds it, and reports validity, CRS, count and, unless
``count_only``, every feature's id, attributes and point.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsFeatureRequest,
    QgsRectangle,
    QgsVectorLayer,
)

TEXT_FIELDS = ("name", "address", "county", "kind", "amenities")


def _text(value: Any) -> str | None:
    """A text attribute as ``str``; QGIS gives NULL as a QVariant, not None."""
    return value if isinstance(value, str) else None


def source_uri(base: str, typename: str, *, page_size: int | None,
               restrict_to_bbox: bool) -> str:
    """The URI the dialog hands to the OAPIF provider for one chosen collection."""
    parts = {"pagingEnabled": "true", "preferCoordinatesForWfsT11": "false",
             "restrictToRequestBBOX": "1" if restrict_to_bbox else "0",
             "srsname": "EPSG:4326", "typename": typename, "url": base,
             "version": "OGC_API_FEATURES"}
    if page_size:
        parts["pageSize"] = str(page_size)
    return " ".join(f"{k}='{v}'" for k, v in parts.items())


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    uri = source_uri(job["url"], job["typename"], page_size=job.get("page_size"),
                     restrict_to_bbox=job.get("rect") is not None)
    layer = QgsVectorLayer(uri, job["typename"], "OAPIF")
    out: dict[str, Any] = {"uri": uri, "valid": layer.isValid()}
    if not layer.isValid():
        provider = layer.dataProvider()
        out["error"] = provider.error().message() if provider else "no provider"
        return out
    crs = layer.crs()
    out.update(crs=crs.authid(), crs_is_geographic=crs.isGeographic(),
               feature_count=layer.featureCount(),
               fields=[f.name() for f in layer.fields()])
    if job.get("count_only"):
        return out
    request = QgsFeatureRequest()
    if job.get("rect") is not None:
        request.setFilterRect(QgsRectangle(*job["rect"]))
    feats = []
    for f in layer.getFeatures(request):
        point = f.geometry().asPoint()
        feats.append({"id": f["id"], "x": point.x(), "y": point.y(),
                      **{k: _text(f[k]) for k in TEXT_FIELDS}})
    out["features"] = feats
    del layer
    return out


def main() -> None:
    spec = json.loads(sys.argv[1])
    app = QgsApplication([], False, spec["profile"])
    app.initQgis()
    results = {"version": Qgis.QGIS_VERSION,
               "jobs": [run_job(job) for job in spec["jobs"]]}
    sys.stdout.write(json.dumps(results, ensure_ascii=False))
    sys.stdout.flush()
    app.exitQgis()


if __name__ == "__main__":
    main()
