"""Deliver: messages out, at most once. `message` builds the MIME message, `transports` hands
it to an outbox folder or an SMTP server, `ledger` is the one send-once policy every email goes
through (over the delivery log of the archive), and `report`, `feedback` and `reminders` decide
what each kind of mail sends."""
