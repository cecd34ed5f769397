"""The ``locator`` command, one module per command group."""

from locator.cli.main import main

__all__ = ["main"]
