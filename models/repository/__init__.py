"""Repository functions: keyword-only, over a `Session`, and the only code that queries.

They flush but never commit: the caller owns the transaction, so an event and everything it causes
(an audit event, an outbox item) are committed together or not at all.
"""
