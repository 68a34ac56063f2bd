"""reporting_assets: a Dagster code location that turns pipeline runs into reports people read."""
