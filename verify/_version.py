"""The package version: the single source (pyproject.toml reads it; records and stores carry it)."""

__version__ = "0.2.0"
