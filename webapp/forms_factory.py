"""WTForms forms built from an Entity's declared params, so no entity needs form code.

The form only checks shapes (required, a valid choice, a whole number) and carries the
CSRF token, the idempotency key and the version the form was loaded at. The real rules
live in the core's params; their errors come back as ParamsError and are put next to
their fields by `apply_errors`."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from . import zones
from .audit import fields as f
from .audit import params as p
from .audit.entity import Entity
from .audit.ids import new_ulid
from .audit.records import list_records
from .domain import registry

PREFIX = "f_"  # attribute prefix, so a field called `data` or `errors` cannot shadow the form's
REF_LIMIT = 500  # options offered for a reference (the demo's targets are small tables)


class CommandForm(FlaskForm):  # type: ignore[misc]
    """Every command form's hidden part (besides CSRF): an idempotency key made when the
    form is first shown, so a resubmitted form repeats its command instead of a new one."""

    idempotency_key = HiddenField(default=new_ulid, validators=[InputRequired(), Length(max=100)])


class VersionedForm(CommandForm):
    """A command on an existing record also carries the version the form was loaded at."""

    expected_version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


def _field(name: str, param: p.Param, editing: bool) -> Any:
    required = param.required and not isinstance(param, p.Boolean | p.Password)
    validators = [InputRequired(message="is required")] if required else [Optional()]
    kw: dict[str, Any] = {"label": param.label or name, "description": param.help,
                          "name": name, "validators": validators, "render_kw": {}}
    if isinstance(param, p.Text | p.Slug | p.Key):
        kw["render_kw"]["maxlength"] = param.max_length
    if isinstance(param, p.Password):
        kw["description"] = ("Leave blank to keep the current password." if editing
                             else f"At least {param.min_length} characters.")
        kw["render_kw"]["autocomplete"] = "new-password"
        return PasswordField(**kw)
    if isinstance(param, p.Boolean):
        kw["validators"] = []
        return BooleanField(**kw)
    if isinstance(param, p.Choice):
        blank = [] if param.required else [SelectChoice("", "—")]
        return SelectField(choices=blank + [SelectChoice(v, label) for v, label in param.labels],
                           **kw)
    if isinstance(param, p.Ref):
        return SelectField(choices=[], **kw)  # filled per request by build_form
    if isinstance(param, p.Integer):
        kw["render_kw"].update(min=param.min_value, max=param.max_value)
        return IntegerField(**kw)
    if isinstance(param, f.Date | f.DateTime | f.Decimal | f.URL):
        return _business_field(param, kw)
    if isinstance(param, p.Email):
        return EmailField(**kw)
    if isinstance(param, p.Text) and param.multiline:
        kw["render_kw"]["rows"] = 6
        return TextAreaField(**kw)
    return StringField(**kw)


def _business_field(param: f.Date | f.DateTime | f.Decimal | f.URL, kw: dict[str, Any]) -> Field:
    """The browser's own control where there is one; the core checks the value anyway."""
    attrs = kw["render_kw"]
    if isinstance(param, f.Date):
        attrs.update(type="date", min=param.earliest, max=param.latest)
    elif isinstance(param, f.DateTime):
        attrs.update(type="datetime-local", step=1)  # build_form names the zone
    elif isinstance(param, f.Decimal):
        attrs.update(inputmode="decimal", maxlength=param.precision + 2)
    else:
        attrs.update(maxlength=param.max_length)
        return URLField(**kw)
    return StringField(**kw)


@cache
def form_class(entity_name: str, editing: bool) -> type[FlaskForm]:
    entity = registry.get(entity_name)
    attrs: dict[str, Any] = {
        PREFIX + name: _field(name, param, editing) for name, param in entity.fields.items()}
    kind, base = ("Edit", VersionedForm) if editing else ("New", CommandForm)
    return type(f"{kind}{entity.name.title().replace('_', '')}Form", (base,), attrs)


def ref_choices(session: Session, target: Entity, required: bool) -> list[tuple[str, str]]:
    page = list_records(session, target, limit=REF_LIMIT)
    options = sorted(((r["id"], str(r[target.title_field])) for r in page.records),
                     key=lambda option: option[1].lower())
    return ([] if required else [("", "—")]) + options


def build_form(session: Session, entity: Entity, editing: bool, **kwargs: Any) -> FlaskForm:
    """An instance bound to the request's form data (or to `data=` / `obj=` values)."""
    form = form_class(entity.name, editing)(**kwargs)
    for name, target in entity.refs.items():
        field = entity_field(form, name)
        options = ref_choices(session, registry.get(target), entity.fields[name].required)
        field.choices = [SelectChoice(value, label) for value, label in options]
    for name, param in entity.fields.items():
        if isinstance(param, f.DateTime):
            zone = f"Time in {zones.admin_zone().key}."
            entity_field(form, name).description = f"{param.help} {zone}".strip()
    return form


def entity_field(form: FlaskForm, name: str) -> Field:
    return form[PREFIX + name]


def initial_data(entity: Entity, values: dict[str, Any]) -> dict[str, Any]:
    """Form `data=` from a record or from submitted values; never a password (hash). A
    stored moment is shown in the admin's zone."""
    data = {}
    for name, param in entity.fields.items():
        value = values.get(name)
        if isinstance(param, f.DateTime) and isinstance(value, str) and value.endswith("Z"):
            value = zones.to_local(value)
        if not isinstance(param, p.Password):
            data[PREFIX + name] = value
    return data


def submitted_params(form: FlaskForm, entity: Entity) -> dict[str, Any]:
    """What the form asks for, as raw values for the core to clean. A blank password is
    left out: on edit it means 'unchanged', on create 'no password yet'."""
    params: dict[str, Any] = {}
    for name, param in entity.fields.items():
        value = entity_field(form, name).data
        if isinstance(param, p.Password) and not value:
            continue
        if isinstance(param, p.Choice | p.Ref | f.Date | f.DateTime | f.Decimal | f.URL) \
                and value == "":
            value = None
        if isinstance(param, f.DateTime) and isinstance(value, str):
            value = zones.to_utc(value)
        params[name] = value
    return params


def apply_errors(form: FlaskForm, errors: dict[str, str]) -> None:
    """Put each of the core's messages next to its field; the rest above the form."""
    for name, message in errors.items():
        key = PREFIX + name if PREFIX + name in form else name
        if key in form and getattr(form[key].widget, "input_type", "") != "hidden":
            form[key].errors = [*form[key].errors, message]
        else:
            form.form_errors.append(f"{name}: {message}" if name != "_" else message)
