"""Database access: declarative base, engine and unit of work, embedded server, migrations."""
