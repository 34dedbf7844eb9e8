"""E-mail notifications: an outbox row per mail, written in the transaction that causes it."""
