"""Recordings of a meeting's conference program: the chair or secretary starts and stops the
recorder (or the session does, when PHONGHOP_RECORD_AUTOMATICALLY is set), the recorder
reports how it goes, and the secretary plays, downloads and, past the retention, prunes them.

The recorder is its own process (`phonghop recorder`, recorder/); `recorders` starts it and
sends it SIGTERM to stop, `api` and `pages` serve what it wrote under
<data_dir>/<Recording.path>/, `state` keeps the Recording rows and `chapters` reads them.
"""

from server.recordings import api, pages
from server.recordings.recorders import Recorders, follow_session
from server.recordings.retention import prune

ROUTES = [*api.ROUTES, *pages.ROUTES]

__all__ = ["ROUTES", "Recorders", "follow_session", "prune"]
