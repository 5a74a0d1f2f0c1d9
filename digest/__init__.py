"""digest: daily newsletter digests from stored articles."""

__version__ = "0.1.0"
