"""Test kit for connector authors: the conformance suite, as a pytest plugin."""
