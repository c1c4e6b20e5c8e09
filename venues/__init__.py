"""What the OMS knows about venues without talking to one: symbol spelling and which exchange ids and URLs the
gateway can serve. Plain Python below every app, so accounts, exchanges and orders all use the same rules."""
