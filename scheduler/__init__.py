"""Working-day calendar, Code timescales, jobs, outbox delivery and message templates."""
