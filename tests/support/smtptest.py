"""Helpers of tests that need servers of their own: a free local port, and a real SMTP server
(aiosmtpd) that keeps every message it accepts."""

from __future__ import annotations

import email
import email.policy
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A port nothing listens on. Below 32768, so it cannot collide with outgoing connections'
    ephemeral ports (pitfalls.md); random, so tests starting servers one after another do not
    race for the same first free one."""
    for _ in range(200):
        port = 20_000 + secrets.randbelow(12_000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


class Mailbox:
    """Everything the SMTP server accepted, parsed (its handler: aiosmtpd calls ``handle_DATA``
    from the server's thread)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(msg)  # type: ignore[arg-type]
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


@contextmanager
def smtp_server(handler: Any) -> Iterator[int]:
    """An SMTP server on 127.0.0.1 handing every mail to ``handler``; yields its port."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
