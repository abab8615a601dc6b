"""Scenarios: the schema, the YAML loader (extends, --set, input caps), the levers."""
