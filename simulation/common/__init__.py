"""Helpers every layer may use: number and value formats, control characters in text."""
