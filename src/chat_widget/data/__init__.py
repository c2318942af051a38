"""Data files shipped with the package (the sample standard response library)."""
