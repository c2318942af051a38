"""System notices, stored language-neutral: a code, its parameters, and the English text.

Every notice the package writes into a transcript comes from ``notice(code, **params)``,
so the stored code and the English text cannot disagree. The English ``text`` is the
fallback (older readers, exports, analysis); views render ``code`` + ``params`` in the
reader's language (the widget: ``NOTICES`` in js/core/labels.ts, with the same codes and
placeholders; a test keeps the two tables in step).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from string import Formatter

#: code -> English template; placeholders are ``{name}``-style, values are plain text.
NOTICES: dict[str, str] = {
    # everyone sees these
    "joined": "{name} joined the chat",
    "left": "{name} left the chat",
    "ended": "{name} ended the chat",
    "left_continues": "{name} left the chat; {successor} continues",
    "transferred_to": "The chat was transferred to {name}",
    "took_over": "{name} took the chat over",
    "took_over_from": "{name} took the chat over from {previous}",
    "you_took_over": "You took the chat over from {previous}",
    "transferred_from_to": "Chat transferred from {previous} to {name}",
    "conference_joined": "{name} joined the conference",
    "conference_left": "{name} left the conference",
    # offers
    "offer_transfer": "{name} transfers this chat to you",
    "offer_transfer_note": "{name} transfers this chat to you: {note}",
    "offer_transfer_anonymous": "A colleague transfers this chat to you",
    "offer_transfer_anonymous_note": "A colleague transfers this chat to you: {note}",
    "offer_invite": "{name} invites you to the chat",
    "offer_invite_note": "{name} invites you to the chat: {note}",
    "offer_invite_anonymous": "A colleague invites you to the chat",
    "offer_invite_anonymous_note": "A colleague invites you to the chat: {note}",
    "offer_timed_out": "Offer withdrawn: not answered in time",
    "offer_withdrawn": "Offer withdrawn: {reason}",
    "taken_elsewhere": "Another agent took this chat.",
    "server_refused": "Server refused: {message}",
    # transfer and conference (agents only)
    "transfer_requested": "Transfer to {name} requested",
    "transfer_requested_by": "{name} asked to transfer the chat to {target}",
    "transfer_requested_by_note": "{name} asked to transfer the chat to {target}: {note}",
    "transfer_cancelled": "Transfer to {name} cancelled",
    "transfer_declined": "Transfer to {name} declined",
    "transfer_declined_reason": "Transfer to {name} declined: {reason}",
    "transfer_not_done": "Transfer not done: {reason}",
    "invited": "{name} invited to the chat",
    "invited_by": "{name} invited {target} to the chat",
    "invite_declined": "{name} declined the invitation",
    "invite_declined_reason": "{name} declined the invitation: {reason}",
    "invite_not_taken": "Invitation not taken: {reason}",
    # consultation (agents only)
    "consultation_started": "Consultation with {name} started (not visible to the contact)",
    "voice_consultation_started": (
        "Voice consultation with {name} started (not visible to the contact)"
    ),
    "consultation_joined": "{name} joined the consultation",
    "consultation_connected": "{name} connected",
    "consultation_no_answer": "{name} did not answer",
    "consultation_left": "{name} ended the consultation",
    "consultation_ended": "Consultation with {name} ended",
    "consultation_to_conference": "Consultation with {name} turned into a conference",
    "consultation_to_transfer": "Consultation with {name} turned into a transfer",
    "consultation_status": "Consultation with {name} ({medium}): {status}",
    # the agent's own calls and e-mails to the contact (agents only, F8)
    "called": "{name} called {number}",
    "call_ended": "Call to {number} ended",
    "emailed": "{name} opened an e-mail to {address}",
    # supervision (agents only, issue 14): what the agent and the export read
    "monitor_silent": "{name} is monitoring this chat",
    "monitor_coach": "{name} is coaching you in this chat (the contact does not see it)",
    "monitor_barge_in": "{name} (supervisor) joined the chat",
    "monitor_stopped": "{name} stopped monitoring this chat",
    "monitor_coach_ended": "{name} stopped coaching you in this chat",
    "flag_raised": "{name} asked for help",
    "flag_raised_note": "{name} asked for help: {note}",
    "flag_lowered": "{name} lowered the help flag",
    # the customer idle timers (issue 16; everyone sees these)
    "idle_alert": "No message for a while: this chat closes in {seconds} s unless you write",
    "idle_closed": "The chat was closed because there was no message for a while",
    "auto_accepted": "Accepted automatically (auto-answer)",
    # not a notice: the default text of a pushed link (F18), ``DEFAULT_PUSH_URL_TEXT``
    "push_url": "Please click the link your agent sent: {url}",
}

#: the text a pushed link carries unless configured otherwise (F18); the customer page
#: and the widget recognise it and show it in the reader's language
DEFAULT_PUSH_URL_TEXT = NOTICES["push_url"]

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def placeholders(template: str) -> set[str]:
    """The ``{name}`` placeholders of a template."""
    return {f for _, f, _, _ in Formatter().parse(template) if f}


@dataclass(frozen=True, slots=True)
class Notice:
    """A system notice: ``code`` and ``params`` for views, ``text`` in English."""

    code: str
    params: Mapping[str, str] = field(default_factory=dict)
    text: str = ""


def render(template: str, params: Mapping[str, str]) -> str:
    """Fill ``{name}`` placeholders; values are inserted as they are (never re-parsed)."""
    return _PLACEHOLDER.sub(lambda m: params.get(m.group(1), m.group(0)), template)


def notice(code: str, **params: object) -> Notice:
    """The one way to make a notice; raises ``KeyError``/``ValueError`` on a wrong code
    or missing/extra parameters, so a typo fails in tests, not in a transcript."""
    template = NOTICES[code]
    values = {k: str(v) for k, v in params.items()}
    if set(values) != placeholders(template):
        raise ValueError(
            f"notice {code!r} takes {sorted(placeholders(template))}, got {sorted(values)}"
        )
    return Notice(code, values, render(template, values))


def with_detail(code: str, detail: str | None, detail_name: str, **params: object) -> Notice:
    """``code`` or, when ``detail`` is non-empty, ``code_<detail_name>`` with it."""
    if detail:
        return notice(f"{code}_{detail_name}", **params, **{detail_name: detail})
    return notice(code, **params)


def push_url_text(template: str, url: str) -> str | Notice:
    """The text of a pushed link: the default one as a ``Notice`` (code ``push_url``),
    so it reads in each reader's language; a configured one as it is."""
    if template == DEFAULT_PUSH_URL_TEXT:
        return notice("push_url", url=url)
    return template.format(url=url)


def push_url_notice(text: str, url: str) -> Notice | None:
    """A received push text that is the default one, as its ``Notice``; else None."""
    default = notice("push_url", url=url)
    return default if text == default.text else None
