"""The zendesk connector plugin."""
