"""pytest plugin for connector authors (fixtures of the conformance suite)."""
