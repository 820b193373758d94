"""The database: engine, tables, transactions. Everything persistent goes through here.

SQLite by default, PostgreSQL in production: only portable constructs (no
SQLite-only SQL); uniqueness is a database constraint, not a check-then-insert.
"""

from .db import Store, StoreBusy, utcnow
from .tables import GENESIS, AuditHead, AuditRecord, Base, InboxMessage, Organisation, Transfer, TransferAttempt

__all__ = ["GENESIS", "StoreBusy", "AuditHead", "AuditRecord", "Base", "InboxMessage", "Organisation", "Store", "Transfer", "TransferAttempt", "utcnow"]
