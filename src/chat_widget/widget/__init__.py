"""Jupyter widgets: thin bridges between a session and its view."""
