"""The whole schema: every table of the app on the one MetaData that Alembic sees.

Tables join it when their module is imported (the demo entities, replication's, sync's,
the login throttle's, sign-in sessions'). Build or compare a schema with `metadata` from
here, not from audit.tables, and none is left out."""

from . import domain  # noqa: F401
from .activity import tables as _activity  # noqa: F401
from .audit.compaction import tables as _compaction  # noqa: F401
from .audit.replication import tables as _replication  # noqa: F401
from .audit.tables import metadata
from .audit.verify import runs as _verification  # noqa: F401
from .auth import throttle  # noqa: F401
from .preferences import tables as _preferences  # noqa: F401
from .sessions import store as _sessions  # noqa: F401
from .sync import acks as _acks  # noqa: F401
from .sync import tables as _sync  # noqa: F401
from .tokens import table as _tokens  # noqa: F401

__all__ = ["metadata"]
