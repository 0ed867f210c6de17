"""The salesforce connector plugin."""
