"""The delivery ledger's vocabulary: what is delivered, how, and the states a delivery goes
through. Plain values without the database, so the CLI's ``--help`` and its choices load
without the ledger's driver."""

from __future__ import annotations

from typing import Literal, get_args

Kind = Literal["daily_summary", "summary_correction", "alert", "export"]
Channel = Literal["email", "s3"]
Status = Literal["pending", "sending", "sent", "failed"]
KINDS: tuple[str, ...] = get_args(Kind)
CHANNELS: tuple[str, ...] = get_args(Channel)
STATUSES: tuple[str, ...] = get_args(Status)
