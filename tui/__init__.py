"""The Textual admin console (`bananapics admin`; built in the console issue)."""
