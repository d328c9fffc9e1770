"""The preferences form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField

from .zones import zone_names


class PreferencesForm(FlaskForm):  # type: ignore[misc]
    time_zone = SelectField("Time zone", description="Times on every page are shown in this "
                            "zone, and the timeline's date filters are read in it.")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.time_zone.choices = list(zone_names())
