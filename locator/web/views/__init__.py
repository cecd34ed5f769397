"""Thin Flask blueprints: each parses a request, calls a lower layer, and renders or serialises."""
