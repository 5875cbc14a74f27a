"""Integrations with generation frameworks (optional extras; nothing here imports them)."""
