"""Fixtures and helpers the test modules share (no tests here).

``conftest.py`` registers the modules that define fixtures (``pytest_plugins``), so a test asks
for ``smtp_server``, ``s3_endpoint`` or ``clean_sync_tables`` by name; plain helpers are imported
from here. No test module imports another test module.
"""
