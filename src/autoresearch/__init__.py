"""autoresearch: bookkeeping for autonomous ML research by a coding agent. See README.md and program.md."""

__version__ = "0.1.0"
