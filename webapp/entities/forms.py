"""The delete confirmation form."""

from __future__ import annotations

from ..forms_factory import VersionedForm


class DeleteForm(VersionedForm):
    """Only the hidden part: CSRF, the version being deleted and an idempotency key."""
