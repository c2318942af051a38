"""Standard responses in a chat (issue 16): the session's face of the library.

``insert_response`` fills a response for the chat at hand and returns the text for the
agent to edit; it never sends. ``send(text, response=id)`` (``ChatSession``) records
which response a message started from (``Entry.response``, ``SendMessage.response``).
"""

from __future__ import annotations

from ..formats.responses import DEFAULT_LANGUAGE, ResponseLibrary, fill
from ..formats.transcript import AgentProfile, ContactRecord
from .errors import ChatError

#: what a chat has before its desk hands it a library
NO_RESPONSES = ResponseLibrary(source="<no library>")


class ResponsesUse:
    """Mixed into ``ChatSession``; the desk sets ``responses`` (``AgentDesk.responses``)."""

    id: str
    contact: ContactRecord
    agent: AgentProfile
    responses: ResponseLibrary = NO_RESPONSES

    def insert_response(self, response_id: str, language: str = DEFAULT_LANGUAGE) -> str:
        """The response's text filled for this chat (contact, agent, chat id), to edit
        in the composer; nothing is sent."""
        return fill(self.responses.get(response_id), language, self.contact, self.agent, self.id)

    def filled_responses(self, language: str = DEFAULT_LANGUAGE) -> list[dict[str, str]]:
        """The whole library filled for this chat, as the view lists it."""
        return [
            {
                "id": r.id,
                "name": r.name,
                "category": r.category,
                "shortcut": r.shortcut,
                "text": fill(r, language, self.contact, self.agent, self.id),
            }
            for r in self.responses
        ]

    def _check_response(self, response_id: str | None) -> str | None:
        """A message may name only a response of the library (None: typed freely)."""
        if response_id is not None and response_id not in self.responses:
            raise ChatError(f"no standard response {response_id!r} in this chat's library")
        return response_id
