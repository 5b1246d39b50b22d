"""`triage run`: the long-running service (bot, email intake, scheduler, outbox) on one asyncio loop.

`service` starts and stops the parts, `heartbeat` records that each part is alive, `roles` says which
parts this instance runs. Kept free of imports so `bot.telegram.app` can use `heartbeat` without a cycle.
"""
