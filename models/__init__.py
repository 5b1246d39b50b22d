"""SQLModel tables, lifecycle rules, repository functions, database and migrations.

Imports no other package of ours: dependencies point inwards.
"""
