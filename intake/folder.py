"""A directory of .eml files seen as a mailbox, so files go through exactly the intake IMAP mail does.

Used by `triage demo` (the bundled sample emails) and useful for loading an export of old mail. UIDs
are the files' positions in name order; the UIDVALIDITY is derived from the directory's path, so the
checkpoint in the database makes a second run over the same directory pick up only new files.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from intake.mailbox import FetchedMessage, FolderState


class DirectoryMailbox:
    """Every `*.eml` in `directory`; `received_at` gives each file its receipt time (the demo's clock)."""

    supports_idle = False

    def __init__(self, directory: Path, *, received_at: Callable[[Path, bytes], datetime]) -> None:
        self.directory = directory
        self.received_at = received_at
        self._files: list[Path] = []
        self._done: set[int] = set()

    def open(self) -> FolderState:
        self._files = sorted(self.directory.glob("*.eml"))
        uidvalidity = zlib.crc32(str(self.directory.resolve()).encode()) or 1
        return FolderState(uidvalidity=uidvalidity, uidnext=len(self._files) + 1, exists=len(self._files))

    def unprocessed_uids(self) -> list[int]:
        return [uid for uid in range(1, len(self._files) + 1) if uid not in self._done]

    def fetch(self, uids: Sequence[int]) -> list[FetchedMessage]:
        fetched = []
        for uid in uids:
            path = self._files[uid - 1]
            raw = path.read_bytes()
            fetched.append(FetchedMessage(uid=uid, raw=raw, internal_date=self.received_at(path, raw)))
        return fetched

    def mark_processed(self, uids: Sequence[int]) -> None:
        self._done.update(uids)

    def wait_for_news(self, seconds: float) -> bool:
        return False

    def close(self) -> None:
        self._files = []
