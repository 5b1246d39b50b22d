"""IMAP email and chat intake: parsing, de-duplication and threading."""
