"""The Telegram app, the `triage` CLI and the service runner. The only package that reads the environment."""
