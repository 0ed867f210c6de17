"""Signal families: each module holds pure functions from a ticket to Signals."""
