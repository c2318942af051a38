"""What customers and agents both do in a chat: messages, pushed URLs, typing."""

from __future__ import annotations

from ..formats import protocol as p
from ..model.clock import Clock
from ..model.urls import InvalidUrlError, validate_push_url
from .config import ServerConfig
from .conversation import LIVE, Conversation, ServiceError
from .event_log import EventLog, ack_after
from .idle import IdleTimers
from .peer import Peer


class Messaging:
    """Messages, pushed URLs and typing in a live chat (the caller checks it is live)."""

    def __init__(self, events: EventLog, clock: Clock, config: ServerConfig) -> None:
        self.events = events
        self.clock = clock
        self.config = config
        self.idle = IdleTimers(events, clock, config.idle_times())  # issue 16

    def message(
        self, peer: Peer, conv: Conversation, me: p.Participant, frame: p.SendMessage
    ) -> None:
        if self.events.duplicate(peer, conv, me.participant_id, frame.id):
            return
        text = frame.text.strip()
        if not text:
            raise ServiceError(p.ErrorCode.INVALID_FRAME, "message is empty")
        self.cancel_typing(conv, me.participant_id)
        # the standard response it started from (issue 16) is stored for analysis
        seq, fut = self.events.emit(
            conv, p.Message, me, client_id=frame.id, text=text, response=frame.response
        )
        self.idle.sent(conv, p.Message, me)
        ack_after(peer, frame.id, conv.id, seq, fut)

    def push_url(
        self, peer: Peer, conv: Conversation, me: p.Participant, frame: p.SendPushUrl
    ) -> None:
        if self.events.duplicate(peer, conv, me.participant_id, frame.id):
            return
        try:
            url = validate_push_url(frame.url)
        except InvalidUrlError as exc:
            raise ServiceError(p.ErrorCode.INVALID_URL, str(exc)) from None
        text = (frame.text or "").strip() or self.config.push_url_text.format(url=url)
        self.cancel_typing(conv, me.participant_id)
        seq, fut = self.events.emit(conv, p.PushUrl, me, client_id=frame.id, url=url, text=text)
        self.idle.sent(conv, p.PushUrl, me)
        ack_after(peer, frame.id, conv.id, seq, fut)

    def typing(
        self, peer: Peer, conv: Conversation, me: p.Participant, frame: p.StartTyping | p.StopTyping
    ) -> None:
        who = me.participant_id
        if isinstance(frame, p.StartTyping):
            was_typing = self.cancel_typing(conv, who)
            conv.typing[who] = self.clock.call_at(
                self.clock.now() + self.config.typing_timeout,
                lambda: self._typing_expired(conv, me),
            )
            if was_typing:  # still typing: only the expiry moves
                peer.push(p.Ack(id=frame.id, conversation=conv.id).to_json())
                return
            seq, fut = self.events.emit(conv, p.TypingStarted, me)
        else:
            if not self.cancel_typing(conv, who):
                peer.push(p.Ack(id=frame.id, conversation=conv.id).to_json())
                return
            seq, fut = self.events.emit(conv, p.TypingStopped, me)
        ack_after(peer, frame.id, conv.id, seq, fut)

    def cancel_typing(self, conv: Conversation, who: str) -> bool:
        handle = conv.typing.pop(who, None)
        if handle is None:
            return False
        handle.cancel()
        return True

    def _typing_expired(self, conv: Conversation, me: p.Participant) -> None:
        """Typing expiry (clock callback): nobody types forever after a lost StopTyping."""
        if conv.typing.pop(me.participant_id, None) is not None and conv.state in LIVE:
            self.events.emit(conv, p.TypingStopped, me)

    def stop_typing_timers(self, conv: Conversation) -> None:
        for handle in conv.typing.values():
            handle.cancel()
        conv.typing.clear()
