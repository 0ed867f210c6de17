"""The Textual console for on-call engineers."""
