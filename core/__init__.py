"""deskwatch core: the escalation engine, its data model, store, daemon and CLI."""
