"""Typed errors of the model layer. Each carries a message fit to show a person as one line."""

from __future__ import annotations


class DomainError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(DomainError):
    """The case, message or person asked for does not exist."""


class ConflictError(DomainError):
    """The write clashes with what is already stored (a duplicate, or someone else got there first)."""
