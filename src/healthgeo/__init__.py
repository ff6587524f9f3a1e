"""healthgeo: exposure and health-disparity indicators per Dutch neighbourhood.

Public modules are nouns or verbs (``config``, ``io``, ``wards``, ``zonal``, ``exposure``,
``network``, ``disparity``, ``impact``, ``sources``, ``demo``, ``assemble``); internals live
in underscore modules. Nothing is computed at import time.
"""

__version__ = "0.1.0"
