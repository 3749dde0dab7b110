"""A tiny package used by pbrx farm's examples and end-to-end tests."""

__version__ = "0.3.0"
