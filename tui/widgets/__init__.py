"""Widgets the admin screens share: the connection banner, counter tiles, the user detail pane."""
