"""Email, one of the ledger's channels (notifications.channels)."""
