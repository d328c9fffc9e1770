"""Extensions, created unbound and bound to an app in create_app."""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from .schema import metadata  # every table, so that migrations see them all

db = SQLAlchemy(metadata=metadata)
# Batch mode so later ALTERs also work on SQLite.
migrate = Migrate(render_as_batch=True, compare_type=True)
csrf = CSRFProtect()
login_manager = LoginManager()
