"""The signed-in user's own preferences."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..auth.roles import role_required
from ..extensions import db
from .forms import PreferencesForm
from .zones import current_zone_name, store_zone

bp = Blueprint("preferences", __name__)


@bp.route("/preferences", methods=["GET", "POST"])
@role_required("viewer")
def edit() -> Response | tuple[str, int]:
    form = PreferencesForm(data={"time_zone": current_zone_name()})
    if form.validate_on_submit():
        store_zone(db.session(), current_user.id, form.time_zone.data)
        flash(f"Times are now shown in {form.time_zone.data}.", "success")
        return redirect(url_for(".edit"))
    status = 422 if form.is_submitted() else 200
    return render_template("preferences/edit.html", form=form), status
