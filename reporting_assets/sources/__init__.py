"""Sample source pipelines (order, manufacturing and shipping sync) over a synthetic source."""
