"""Text that displays as stored: what hides or reorders text is refused in every text
field, and identifiers (usernames, emails, slugs, keys, node names) are held to a
stricter set, so a name that shows as "admin" is "admin"."""

from __future__ import annotations

import pytest

from webapp.audit.node import clean_node_name
from webapp.audit.params import Email, Key, ParamsError, Slug, Text
from webapp.domain import users

MESSAGE = "must not contain invisible or text-direction characters"
# Hidden anywhere: line/paragraph separators, the combining grapheme joiner, Hangul
# fillers, Mongolian and Khmer invisibles, tags (invisible copies of ASCII).
HIDDEN = ["\u2028", "\u2029", "\u034f", "\u115f", "\u1160", "\u3164", "\uffa0", "\u17b4",
          "\u180b", "\U000e0041", "\U000e007f", "\u202e", "\u200b", "\u2067"]
# Hidden in an identifier only: variation selectors and the blank Braille pattern
# (an emoji's variation selector is fine in a team's name).
HIDDEN_IN_IDENTIFIERS = ["\ufe0f", "\ufe00", "\U000e0100", "\u2800"]


def refused(param, value):
    try:
        param.clean(value)
    except ValueError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("char", HIDDEN)
def test_text_refuses_what_hides_or_reorders_text(char):
    assert refused(Text(), f"ad{char}min") == MESSAGE
    assert refused(Text(multiline=True), f"ad{char}min") == MESSAGE


@pytest.mark.parametrize("char", HIDDEN + HIDDEN_IN_IDENTIFIERS)
def test_identifiers_refuse_every_hidden_character(char):
    assert refused(Email(), f"ad{char}min@example.org") == MESSAGE
    assert refused(Slug(), f"ad{char}min") == MESSAGE
    assert refused(Key(), f"mail.ad{char}min") == MESSAGE
    with pytest.raises(ValueError, match="invisible or text-direction"):
        clean_node_name(f"no{char}de")


@pytest.mark.parametrize("char", HIDDEN_IN_IDENTIFIERS)
def test_plain_text_keeps_variation_selectors(char):
    assert Text().clean(f"Red {char}team") == f"Red {char}team"


def test_a_username_with_a_bidi_override_is_refused_with_its_field_named():
    with pytest.raises(ParamsError) as raised:
        users.params.clean({"username": "adm\u202ein", "email": "a\u200b@example.org",
                            "role": "viewer", "active": True}, partial=False)
    assert raised.value.errors == {"username": MESSAGE, "email": MESSAGE}


@pytest.mark.parametrize("name", ["\u05e9\u05dc\u05d5\u05dd", "nöde-1", "東京"])
def test_names_in_any_script_are_still_welcome(name):
    assert clean_node_name(name) == name and Text().clean(name) == name
