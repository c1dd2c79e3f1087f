"""A local SMTP server that writes every e-mail it receives to <folder>/<timestamp>-<n>.eml.

Odoo's outgoing mail goes here in the demo, never to the internet.
Usage: python smtp_sink.py FOLDER PORT
"""

import asyncio
import itertools
import sys
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class EmlWriter:
    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{next(self.counter):05d}.eml"
        (self.folder / name).write_bytes(envelope.original_content or envelope.content)
        return '250 Message accepted'


def main():
    folder, port = sys.argv[1], int(sys.argv[2])
    controller = Controller(EmlWriter(folder), hostname='127.0.0.1', port=port)
    controller.start()
    print(f"SMTP sink on 127.0.0.1:{port}, writing to {folder}", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == '__main__':
    main()
