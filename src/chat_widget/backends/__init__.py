"""Backends do the I/O around the sans-I/O model: the scripted mock and the websocket client."""
