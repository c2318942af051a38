"""The session state the view draws from, as one JSON-ready dict (times in clock ms)."""

from __future__ import annotations

from typing import Any

from ..model.session import ChatSession
from .history_view import history_view


def _ms(t: float | None) -> float | None:
    return None if t is None else t * 1000.0


WAITING_STATE: dict[str, Any] = {"state": "waiting", "session_id": None}
# the model's offer kinds as the view's hook spells them (SPEC 6: data-kind of offer-kind)
OFFER_KINDS = {"chat": "new", "transfer": "transfer", "conference": "conference"}


def session_view_state(
    session: ChatSession, url_history: list[str], locale: str = "en"
) -> dict[str, Any]:
    """``locale``: the view's language, the standard responses' texts are in it."""
    cfg = session.config
    flag = session.help_flag
    perms = session.agent.permissions
    return {
        "session_id": session.id,
        "state": str(session.state),
        "contact": session.contact.to_dict(),
        "agent": {"name": session.agent.name, "id": session.agent.id},
        "permissions": {
            "push_urls": perms.push_urls,
            "call_contact": perms.call_contact,
            "email_contact": perms.email_contact,
        },
        "thresholds_ms": {
            "yellow": cfg.thresholds.yellow_after * 1000.0,
            "red": cfg.thresholds.red_after * 1000.0,
        },
        "pending_since_ms": _ms(session.timer.pending_since),
        "offered_at_ms": _ms(session.offered_at),
        "offer": {
            "kind": OFFER_KINDS.get(session.offer_kind, session.offer_kind),
            "from": session.offer_from,
            "note": session.offer_note,
            "expires_at_ms": _ms(session.offer_expires_at),
        },
        "accepted_at_ms": _ms(session.accepted_at),
        "ended_at_ms": _ms(session.ended_at),
        "contact_typing_until_ms": _ms(session.contact_typing_until),
        "connection": str(session.connection),
        "contact_left": session.contact_has_left,
        "pending": sorted(session.pending.values()),
        "refused": sorted(session.refused.values()),
        "disposition": session.disposition,
        "disposition_codes": list(cfg.disposition_codes),
        "disposition_required": cfg.disposition_required,
        "notes": list(session.notes),
        "call": {"state": str(session.call_state), "number": session.call_number},
        "clickable_contact_details": cfg.clickable_contact_details,
        "url_history": list(url_history),
        # standard responses (issue 16), filled for this chat: {id, name, category, shortcut, text}
        "responses": session.filled_responses(locale),
        # supervision (issue 14): what the agent may know of its supervisor, and its flag
        "monitored": (
            None
            if session.monitored is None
            else {"mode": session.monitored, "by": session.monitored_by}
        ),
        "help_flag": (
            None if flag is None else {"text": flag.text, "raised_at_ms": flag.raised_at * 1000.0}
        ),
        "history": history_view(session.history),  # the contact's earlier chats (issue 16)
    }
