"""Text-like params: Text, Slug, Key and Email clean good input and refuse bad input."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import mysql, postgresql

from webapp.audit.params import Email, Invalid, Key, Slug, Text


def refused(param, value) -> str:
    with pytest.raises(Invalid) as caught:
        param.clean(value)
    return str(caught.value)


def test_text_is_trimmed_and_unicode_normalised():
    assert Text().clean("  Zoë  ") == "Zoë"
    assert Text().clean("Zoe\u0308") == "Zoë"  # combining diaeresis becomes one character
    assert Text().clean("東京 🚀 مرحبا") == "東京 🚀 مرحبا"


def test_text_length_is_counted_in_characters_after_trimming():
    assert Text(max_length=3).clean(" 🚀🚀🚀 ") == "🚀🚀🚀"
    assert refused(Text(max_length=3), "abcd") == "must be at most 3 characters (got 4)"
    assert refused(Text(min_length=2), " a ") == "must be at least 2 characters"


@pytest.mark.parametrize("bad", ["a\nb", "a\tb", "a\rb", "nul\x00", "bell\x07", "esc\x1b[31m",
                                 "del\x7f", "c1\x85"])
def test_single_line_text_refuses_control_characters(bad):
    assert refused(Text(), bad) == "must not contain control characters"


def test_multiline_text_keeps_newlines_and_tabs_and_normalises_line_ends():
    assert Text(multiline=True).clean(" a\r\n\tb\n ") == "a\n\tb"
    assert Text(multiline=True).clean("a\rb") == "a\rb"
    for bad in ("a\x00b", "a\x0bb", "a\x0cb", "a\x85b"):
        assert refused(Text(multiline=True), bad) == "must not contain control characters"


# The edges of the control (Cc) and surrogate (Cs) ranges, and their neighbours.
@pytest.mark.parametrize("char, control", [
    ("\x1f", True), ("\x20", False), ("\x7e", False), ("\x7f", True), ("\x9f", True),
    ("\xa0", False), ("\u2010", False), ("\ud7ff", False), ("\ud800", True), ("\udfff", True),
    ("\ue000", False), ("\U0010ffff", False)])
def test_exactly_control_and_surrogate_characters_are_refused(char, control):
    for param in (Text(), Text(multiline=True)):
        if control:
            assert refused(param, f"a{char}b") == "must not contain control characters"
        else:
            assert param.clean(f"a{char}b") == f"a{char}b"


# Characters that hide or reorder text: "admin" followed by a zero-width space is not
# "admin", and a right-to-left override makes "gnp.exe" read as "exe.png".
@pytest.mark.parametrize("char", ["\u200b", "\u200d", "\u200e", "\u202a", "\u202e",
                                  "\u2066", "\u2069", "\ufeff", "\u00ad"])
def test_invisible_and_text_direction_characters_are_refused(char):
    for param in (Text(), Text(multiline=True)):
        assert refused(param, f"a{char}b") == (
            "must not contain invisible or text-direction characters")


@pytest.mark.parametrize("bad", ["\ud800", "a\udfffb"])
def test_text_refuses_lone_surrogates_that_no_database_can_store(bad):
    assert "must not contain" in refused(Text(), bad)
    assert "must not contain" in refused(Text(multiline=True), bad)


@pytest.mark.parametrize("bad", [None, 12, 1.5, True, b"bytes", ["a"], {"a": 1}])
def test_text_refuses_non_text(bad):
    assert refused(Text(), bad) == "must be text"


@pytest.mark.parametrize("raw, clean", [("team-red", "team-red"), ("Team-Red", "team-red"),
                                        (" a1 ", "a1"), ("x", "x"), ("2024-q1", "2024-q1")])
def test_slug_accepts_lowercase_words_joined_by_single_hyphens(raw, clean):
    assert Slug().clean(raw) == clean


@pytest.mark.parametrize("bad", ["", "-red", "red-", "red--team", "red team", "red_team",
                                 "rouge·équipe", "red\n", "ｒｅｄ", "red/../x", "red.team"])
def test_slug_refuses_anything_else(bad):
    assert refused(Slug(), bad)


def test_slug_has_a_length_limit():
    assert Slug(max_length=5).clean("abcde") == "abcde"
    assert refused(Slug(max_length=5), "abcdef") == "must be at most 5 characters"


@pytest.mark.parametrize("raw, clean", [("mail.smtp_host", "mail.smtp_host"),
                                        ("Theme", "theme"), ("a.b.c2", "a.b.c2")])
def test_key_accepts_dotted_lowercase_words(raw, clean):
    assert Key().clean(raw) == clean


@pytest.mark.parametrize("bad", ["", ".mail", "mail.", "mail..host", "1mail", "mail.2x",
                                 "mail-host", "mail host", "mail.host\n", "a" * 101])
def test_key_refuses_anything_else(bad):
    assert refused(Key(), bad)


@pytest.mark.parametrize("raw, clean", [("Alice@Example.COM", "alice@example.com"),
                                        (" bob@example.org ", "bob@example.org"),
                                        ("pelé@exämple.com", "pelé@exämple.com")])
def test_email_is_normalised_to_lowercase(raw, clean):
    assert Email().clean(raw) == clean


@pytest.mark.parametrize("bad", ["", "alice", "@example.com", "alice@", "a@b", "a..b@example.com",
                                 "alice@example..com", "alice@exa mple.com", "alice@example.com\n",
                                 "a@" + "b" * 250 + ".com", 42])
def test_email_refuses_invalid_addresses_with_a_reason(bad):
    message = refused(Email(), bad)
    assert message.startswith(("is not a valid email address", "must "))


def test_text_column_holds_its_longest_value_on_every_database():
    # MariaDB's TEXT stops at 64 KiB (bytes, and a character may take 4): a long field
    # needs LONGTEXT there, while short ones keep a VARCHAR with the same limit.
    long_type = Text(max_length=100_000).column_type()
    assert "LONGTEXT" in str(long_type.compile(dialect=mysql.dialect()))
    assert str(long_type.compile(dialect=postgresql.dialect())) == "TEXT"
    assert str(Text(max_length=120).column_type().compile(dialect=mysql.dialect())) == (
        "VARCHAR(120)")
