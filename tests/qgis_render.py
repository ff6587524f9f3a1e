"""Open a GeoPackage layer in QGIS and render its default style to a PNG (run with the system Python).

``python3 tests/qgis_render.py GPKG LAYER PNG [FIELD]`` prints one JSON object: whether the layer
is valid, its renderer type, the styles stored in the file and the one QGIS applied, the alias
and comment QGIS shows for FIELD, and the number of distinct colours in the rendered image.

QGIS's Python bindings (Debian ``python3-qgis``) live in the system Python, not in the test
venv, so tests/test_styles_qgis.py runs this file with ``/usr/bin/python3``. Headless:
``QT_QPA_PLATFORM=offscreen``. Opening the layer the way QGIS does applies the default style
from ``layer_styles`` (``useAsDefault``) by itself; nothing here loads it by hand.
"""

from __future__ import annotations

import json
import os
import sys


def main(gpkg: str, layer_name: str, png: str, field: str = "no2_ugm3_popw") -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qgis.core import (QgsApplication, QgsMapRendererSequentialJob, QgsMapSettings, QgsVectorLayer)
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    app = QgsApplication([], False)
    app.initQgis()
    layer = QgsVectorLayer(f"{gpkg}|layername={layer_name}", layer_name, "ogr")
    out = {"valid": layer.isValid(), "qgis": app.applicationVersion()}
    if layer.isValid():
        out["renderer"] = layer.renderer().type()
        out["rules"] = [r.label() for r in layer.renderer().rootRule().children()] \
            if out["renderer"] == "RuleRenderer" else []
        n_related, _ids, names, _descriptions, _error = layer.listStylesInDatabase()
        out["stored_styles"] = list(names[:n_related])
        idx = layer.fields().indexOf(field)
        f = layer.fields().field(idx) if idx >= 0 else None
        out["field"] = field
        out["alias"] = layer.attributeAlias(idx) if idx >= 0 else None
        out["comment"] = f.comment() if f is not None else None
        out["features"] = layer.featureCount()

        settings = QgsMapSettings()
        settings.setLayers([layer])
        settings.setDestinationCrs(layer.crs())
        settings.setExtent(layer.extent())
        settings.setOutputSize(QSize(400, 400))
        settings.setBackgroundColor(QColor("white"))
        job = QgsMapRendererSequentialJob(settings)
        job.start()
        job.waitForFinished()
        image = job.renderedImage()
        image.save(png)
        colours = {image.pixel(x, y) for x in range(0, image.width(), 4) for y in range(0, image.height(), 4)}
        out["colours"] = len(colours)
        out["errors"] = [e.message for e in job.errors()]
    print(json.dumps(out), flush=True)
    del layer  # before exitQgis: a layer that outlives the application crashes the interpreter on exit
    app.exitQgis()


if __name__ == "__main__":
    main(*sys.argv[1:])
