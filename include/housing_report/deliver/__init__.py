"""Deliver: messages out, at most once. `message` builds the MIME message, `transports` hands
it to an outbox folder or an SMTP server, and `report`, `feedback` and `reminders` decide what
each kind of mail sends, through the delivery log of the archive."""
