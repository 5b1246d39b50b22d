"""Subcommands of the `triage` CLI, one module per noun."""
