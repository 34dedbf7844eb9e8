"""A local SMTP sink for development (``crm up`` starts it): accepts every mail, keeps none, and
prints one line per mail so the console shows what the product sent.

``python -m crm_core.mail.sink --port 1025``. Needs ``aiosmtpd`` (a development dependency).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import signal
import sys
import threading
from typing import Any


class PrintingHandler:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        print(
            f"MAIL-RECEIVED to={','.join(envelope.rcpt_tos)} subject={msg['Subject']!r} "
            f"message_id={msg['Message-ID']} event={msg['X-CRM-Event']}",
            flush=True,
        )
        return "250 Message accepted for delivery"


def main(argv: list[str] | None = None) -> int:
    from aiosmtpd.controller import Controller

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    args = parser.parse_args(argv)
    controller = Controller(PrintingHandler(), hostname=args.host, port=args.port)
    controller.start()
    print(f"SMTP sink listening on {args.host}:{args.port}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            pass
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
