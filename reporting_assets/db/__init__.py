"""PostgreSQL access: URL resolution (embedded or external), connections, migrations."""
