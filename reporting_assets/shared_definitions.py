"""The resources every domain uses: ``postgres`` (the reporting database) and ``report_settings``
(run links and list lengths in reports).

Provided once, here, so ``dg.Definitions.merge`` at the root sees one object per key; a domain's
own settings resources stay in its ``definitions.py``.
"""

import dagster as dg

from reporting_assets.resources import PostgresResource, ReportSettingsResource


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        resources={"postgres": PostgresResource(), "report_settings": ReportSettingsResource()}
    )
