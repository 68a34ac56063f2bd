"""One router per area: health, the report builder, pipeline reports, lineage."""
