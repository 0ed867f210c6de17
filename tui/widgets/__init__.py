"""Widgets of the console: they get data set on them and post messages up."""
