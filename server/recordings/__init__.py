"""Recordings of a meeting's conference program: the chair or secretary starts and stops the
recorder (or the session does, when PHONGHOP_RECORD_AUTOMATICALLY is set), the recorder
reports how it goes, and the secretary plays, downloads and, past the retention, prunes them.

The recorder (recorder/) never touches the database; this package does it for it.
`recorders` starts its process and stops it with SIGTERM, `standalone` is that process
(`phonghop recorder`: the row made before, closed after), `state` keeps the Recording rows,
`chapters` writes and reads chapters.vtt from the journal, `api` and `pages` serve what was
recorded under <data_dir>/<Recording.path>/, `retention` prunes.
"""

from server.recordings import api, pages
from server.recordings.recorders import Recorders, follow_session
from server.recordings.retention import prune

ROUTES = [*api.ROUTES, *pages.ROUTES]

__all__ = ["ROUTES", "Recorders", "follow_session", "prune"]
