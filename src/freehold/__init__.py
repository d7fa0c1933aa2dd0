"""Freehold: a coding agent that runs only on models and machines the organization controls."""

# Kept as a literal so `freehold --version` needs no importlib.metadata lookup.
__version__ = "0.1.0"
