"""Storage: SQLAlchemy Core tables, repositories (the only place with SQL) and migrations."""

from bastion.storage.db import Database

__all__ = ["Database"]
