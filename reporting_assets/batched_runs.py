"""Batched runs started in this process (the demo, ``reports rerender``): one run over a range of
partitions, tagged as Dagster tags a backfill's ranged run.

Such a run carries no ``dagster/partition/customer`` tag even when the range is one customer's
days: Dagster reads the dimension tags back as one partition key, and a ranged run with them
fails. Find these runs by their range tags (or ``reporting/rerender``) in the UI's run filters.
"""

from __future__ import annotations

from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

QUIET_LOGGERS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
"""Run config for in-process runs whose progress the caller prints itself."""


def range_tags(first_key: str, last_key: str) -> dict[str, str]:
    """The tags of one run over the partitions ``first_key``..``last_key``."""
    return {ASSET_PARTITION_RANGE_START_TAG: first_key, ASSET_PARTITION_RANGE_END_TAG: last_key}
