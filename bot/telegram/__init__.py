"""The Telegram bot: residents' chat intake and staff triage. `app.build_application` wires it."""
