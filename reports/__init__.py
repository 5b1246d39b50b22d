"""Complaints performance reporting (Code 8.1, 9.x; TSM CH01/CH02)."""
