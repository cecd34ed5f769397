"""Add layers from /ogc through QGIS's own "Add WFS / OGC API – Features layer" dialog.

Run by ``tests/test_qgis_client.py`` with Debian's ``/usr/bin/python3`` (where
``python3-qgis`` installs PyQGIS), not with the project's virtualenv, with
``QT_QPA_PLATFORM=offscreen``. It takes one JSON argument::

    {"profile": dir, "connections": {name: {"url": ..., "page_size": n}},
     "jobs": [{"connection": name, "typename": ..., "view_extent_only": bool,
               "rect": [x0, y0, x1, y1] | null, "count_only": bool}]}

For each connection it saves a WFS / OGC API – Features connection in the
throw-away profile, opens the dialog, presses Connect and records the
collections it lists. For each job it selects the collection, sets "Only
request features overlapping the view extent", presses Add and opens the layer
the dialog hands over (its URI and provider key), then reports validity, CRS,
count and, unless ``count_only``, every feature read. The result is printed as
JSON on stdout; the assertions are made by the test.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsFeatureRequest,
    QgsProviderRegistry,
    QgsRectangle,
    QgsSettings,
    QgsVectorLayer,
)
from qgis.gui import QgsGui
from qgis.PyQt import sip
from qgis.PyQt.QtCore import QItemSelectionModel, Qt
from qgis.PyQt.QtWidgets import QCheckBox, QComboBox, QPushButton, QTreeView

TEXT_FIELDS = ("name", "address", "county", "kind", "amenities")
TIMEOUT_S = 30


def _text(value: Any) -> str | None:
    """A text attribute as ``str``; QGIS gives NULL as a QVariant, not None."""
    return value if isinstance(value, str) else None


def save_connection(name: str, url: str, page_size: int | None) -> None:
    """What the dialog's New connection form stores for an OGC API – Features server."""
    settings = QgsSettings()
    key = f"qgis/connections-wfs/{name}"
    settings.setValue(f"{key}/url", url)
    settings.setValue(f"{key}/version", "OGC_API_FEATURES")
    settings.setValue(f"{key}/pagingenabled", "true")
    if page_size:
        settings.setValue(f"{key}/pagesize", str(page_size))


class Dialog:
    """The WFS / OGC API – Features source select widget, connected to one server."""

    def __init__(self, app: QgsApplication, name: str) -> None:
        provider = QgsGui.sourceSelectProviderRegistry().providerByName("WFS")
        self.widget = provider.createDataSourceWidget(
            None, Qt.Widget, QgsProviderRegistry.WidgetMode.Manager)
        combo = self.widget.findChild(QComboBox, "cmbConnections")
        combo.setCurrentIndex(combo.findText(name))
        self.added: list[tuple[str, ...]] = []
        self.widget.addVectorLayer.connect(lambda *args: self.added.append(args))
        self.tree = self.widget.findChild(QTreeView, "treeView")
        connect = self.widget.findChild(QPushButton, "btnConnect")
        connect.click()
        deadline = time.monotonic() + TIMEOUT_S
        # Connect is disabled while the landing page and collections are fetched.
        while (not connect.isEnabled() or self.tree.model().rowCount() == 0) \
                and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)

    def close(self) -> None:
        """Destroy the widget while the application still exists."""
        self.widget.addVectorLayer.disconnect()
        sip.delete(self.widget)

    def collections(self) -> list[dict[str, str]]:
        m = self.tree.model()
        return [{"title": m.index(r, 0).data(), "id": m.index(r, 1).data(),
                 "description": m.index(r, 2).data()} for r in range(m.rowCount())]

    def add(self, typename: str, *, view_extent_only: bool) -> tuple[str, str] | None:
        """Select ``typename``, press Add; the layer's URI and provider key, if any."""
        m = self.tree.model()
        rows = [r for r in range(m.rowCount()) if m.index(r, 1).data() == typename]
        if not rows:
            return None
        index = m.index(rows[0], 0)
        self.tree.setCurrentIndex(index)
        self.tree.selectionModel().select(
            index, QItemSelectionModel.ClearAndSelect | QItemSelectionModel.Rows)
        self.widget.findChild(QCheckBox, "cbxFeatureCurrentViewExtent") \
            .setChecked(view_extent_only)
        self.added.clear()
        self.widget.addButtonClicked()
        if len(self.added) != 1:
            return None
        uri, _layer_name, provider_key = self.added[0]
        return uri, provider_key


def read_layer(uri: str, provider_key: str, job: dict[str, Any]) -> dict[str, Any]:
    layer = QgsVectorLayer(uri, job["typename"], provider_key)
    out: dict[str, Any] = {"valid": layer.isValid()}
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
    return out


def main() -> None:
    spec = json.loads(sys.argv[1])
    app = QgsApplication([], True, spec["profile"])
    app.initQgis()
    for name, conn in spec["connections"].items():
        save_connection(name, conn["url"], conn.get("page_size"))
    dialogs = {name: Dialog(app, name) for name in spec["connections"]}
    results: dict[str, Any] = {
        "version": Qgis.QGIS_VERSION,
        "collections": {name: d.collections() for name, d in dialogs.items()},
        "jobs": []}
    for job in spec["jobs"]:
        chosen = dialogs[job["connection"]].add(
            job["typename"], view_extent_only=bool(job.get("view_extent_only")))
        if chosen is None:
            results["jobs"].append({"valid": False, "error": "the dialog added no layer"})
            continue
        uri, provider_key = chosen
        results["jobs"].append({"uri": uri, "provider": provider_key,
                                **read_layer(uri, provider_key, job)})
    sys.stdout.write(json.dumps(results, ensure_ascii=False))
    sys.stdout.flush()
    for dialog in dialogs.values():
        dialog.close()
    app.exitQgis()


if __name__ == "__main__":
    main()
