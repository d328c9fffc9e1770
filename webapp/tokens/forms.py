"""The form that issues an API token (revoking is a button: CSRF token only)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length


class IssueTokenForm(FlaskForm):  # type: ignore[misc]
    username = StringField("Account (username)", validators=[InputRequired(), Length(max=100)],
                           render_kw={"autocomplete": "off", "autocapitalize": "none"})
    name = StringField("Token name", validators=[InputRequired(), Length(max=100)],
                       description="What it is for, e.g. 'SIEM import'.")
