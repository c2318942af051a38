"""System notices are stored language-neutral (code + params) with their English text from
one table; the widget's template tables (js/core/labels.ts) have the same codes and placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chat_widget import IllegalTransitionError, MockBackend, VirtualClock
from chat_widget.formats.notices import (
    DEFAULT_PUSH_URL_TEXT,
    NOTICES,
    notice,
    placeholders,
    push_url_notice,
)
from chat_widget.formats.transcript import Entry, Kind
from chat_widget.formats.transcript_file import (
    entry_from_doc,
    entry_to_doc,
    transcript_from_session,
)
from chat_widget.model.errors import ERROR_CODES
from chat_widget.model.session import DEFAULT_DISPOSITION_CODES, ChatSession, SessionConfig
from chat_widget.widget.sync import entry_to_view

LABELS_TS = Path(__file__).resolve().parents[2] / "js" / "core" / "labels.ts"


def _js_table(name: str) -> dict[str, str]:
    source = LABELS_TS.read_text(encoding="utf-8")
    body = re.search(rf"export const {name}: NoticeTable = \{{(.*?)\n\}};", source, re.S)
    assert body is not None, f"{name} not found in js/core/labels.ts"
    return dict(re.findall(r'^\s+(\w+): "((?:[^"\\]|\\.)*)",$', body.group(1), re.M))


def test_notice_makes_code_params_and_english_text_from_the_one_table() -> None:
    n = notice("joined", name="Alice")
    assert (n.code, dict(n.params), n.text) == (
        "joined",
        {"name": "Alice"},
        "Alice joined the chat",
    )
    # values are inserted as they are, never parsed as templates themselves
    assert notice("left", name="{name} {x}").text == "{name} {x} left the chat"
    with pytest.raises(KeyError):
        notice("no_such_code", name="x")
    with pytest.raises(ValueError, match="takes"):
        notice("joined")
    with pytest.raises(ValueError, match="takes"):
        notice("joined", name="A", extra="B")


def test_widget_tables_have_every_code_in_english_and_german_with_the_same_placeholders() -> None:
    en, de = _js_table("NOTICES_EN"), _js_table("NOTICES_DE")
    assert en == NOTICES  # the English templates are the Python ones, word for word
    assert set(de) == set(NOTICES)
    for code, template in NOTICES.items():
        assert placeholders(de[code]) == placeholders(template), code
        assert de[code] != template, f"{code} is not translated"
        assert not re.search(r"Rücksprache|Kolleg|\bihn\b", de[code]), code


def test_session_notices_carry_codes_through_sync_and_export(session: ChatSession) -> None:
    session.accept()
    session.receive_message("Hi")
    session.contact_left()
    session.end()
    coded = [e for e in session.transcript if e.kind is Kind.NOTICE]
    assert [(e.code, e.params, e.text) for e in coded] == [
        ("left", {"name": "Maria Weber"}, "Maria Weber left the chat"),
        ("ended", {"name": "Agent"}, "Agent ended the chat"),
    ]
    view = entry_to_view(coded[1])
    assert (view["c"], view["p"], view["x"]) == ("ended", {"name": "Agent"}, "Agent ended the chat")
    assert "c" not in entry_to_view(session.transcript[0])  # messages stay as they were
    # kept in to_dict/from_dict and in the transcript format; left_at still found
    assert Entry.from_dict(coded[1].to_dict()) == coded[1]
    assert "code" not in session.transcript[0].to_dict()
    doc = transcript_from_session(session)
    left = next(e for e in doc["entries"] if e.get("event") == "left")
    assert (left.get("code"), left.get("params")) == ("left", {"name": "Maria Weber"})
    assert entry_from_doc(entry_to_doc(coded[0])) == coded[0]


def test_default_pushed_link_text_is_coded_and_a_configured_one_is_not(
    session: ChatSession,
) -> None:
    session.accept()
    entry = session.push_url("https://example.com/help")
    assert entry.code == "push_url" and entry.params == {"url": "https://example.com/help"}
    assert entry.text == DEFAULT_PUSH_URL_TEXT.format(url="https://example.com/help")
    assert push_url_notice(entry.text, "https://example.com/help") is not None
    session.reconfigure(SessionConfig(push_url_text="Bitte hier klicken: {url}"))
    own = session.push_url("https://example.com/x")
    assert (own.code, own.text) == (None, "Bitte hier klicken: https://example.com/x")


def test_mock_and_collaboration_notices_are_coded() -> None:
    backend = MockBackend("billing", clock=VirtualClock())
    backend.clock.advance(2)
    session = backend.first_session()
    session.accept()
    backend.desk.collab.transfer(session.id, "agent", "c-lena", "vip")
    backend.desk.collab.cancel_transfer(session.id)
    backend.desk.collab.consult(session.id, "agent", "c-lena", "voice")
    codes = [(e.code, e.text) for e in session.transcript if e.kind is Kind.NOTICE]
    assert codes[:4] == [
        ("joined", "Agent joined the chat"),
        ("transfer_requested", "Transfer to Lena Hoffmann requested"),
        ("transfer_cancelled", "Transfer to Lena Hoffmann cancelled"),
        (
            "voice_consultation_started",
            "Voice consultation with Lena Hoffmann started (not visible to the contact)",
        ),
    ]
    for e in session.transcript:
        if e.code is not None:
            assert notice(e.code, **(e.params or {})).text == e.text


def test_illegal_transition_names_states_in_words_not_enum_reprs(session: ChatSession) -> None:
    session.accept()
    session.end()
    session.reconfigure(SessionConfig(disposition_required=True))
    with pytest.raises(IllegalTransitionError) as info:
        session.mark_done()
    message = str(info.value)
    assert "<" not in message and "SessionState" not in message, message
    assert "ended" in message
    session.set_disposition("Resolved")
    session.mark_done()
    with pytest.raises(IllegalTransitionError) as info:
        session.send("still there?")
    message = str(info.value)
    assert "SessionState" not in message and "'done'" not in message, message
    assert "done" in message


def test_every_default_disposition_code_has_a_german_label() -> None:
    source = LABELS_TS.read_text(encoding="utf-8")
    block = source[source.index("const DISPOSITION_LABELS") :]
    for code in DEFAULT_DISPOSITION_CODES:
        assert re.search(rf'^\s+"?{re.escape(code)}"?: "[^"]+",$', block, re.M), code


def test_every_error_code_has_a_label_in_the_widget() -> None:
    source = LABELS_TS.read_text(encoding="utf-8")
    block = source[source.index("const ERROR_LABELS") :]
    table = dict(re.findall(r'^\s+(\w+): "(\w+)",$', block, re.M))
    assert set(table) == ERROR_CODES
    for key in table.values():
        assert re.search(rf"^\s+{key}: \"", source, re.M), key
