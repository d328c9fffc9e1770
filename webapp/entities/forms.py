"""The delete confirmation form: CSRF, the version being deleted, an idempotency key."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField
from wtforms.validators import InputRequired, Length
from wtforms.widgets import HiddenInput

from ..audit.ids import new_ulid


class DeleteForm(FlaskForm):  # type: ignore[misc]
    expected_version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    idempotency_key = HiddenField(default=new_ulid, validators=[InputRequired(), Length(max=100)])
