"""The freshdesk connector plugin."""
