"""Links that are the same on every request of a deployment (the stylesheets, the nav's
pages): built once per process and script root, not by url_for on every page (the layout
has ~18 of them; each url_for walks the URL map).

Only for endpoints whose URL depends on nothing but the endpoint, its arguments and the
script root the app is mounted under, which holds for every route here (no url_defaults,
no subdomains, no SERVER_NAME)."""

from __future__ import annotations

from typing import Any

from flask import request, url_for

_MOST = 512  # distinct (root, endpoint, arguments): the layout uses ~20
_built: dict[tuple[Any, ...], str] = {}


def fixed_url(endpoint: str, **values: str) -> str:
    """url_for(endpoint, **values), remembered per script root."""
    key = (request.script_root, endpoint, *sorted(values.items()))
    url = _built.get(key)
    if url is None:
        if len(_built) >= _MOST:  # bounded: arguments come from templates, not requests
            _built.clear()
        url = _built[key] = url_for(endpoint, **values)
    return url
