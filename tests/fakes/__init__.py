"""Fake servers for tests: real HTTP on 127.0.0.1 that validate, script and record like the real APIs.

Provider fakes: ``gemini``, ``openai``, ``ark``, ``fal`` on the shared ``server`` base; their pytest
fixtures live in :mod:`tests.fakes.fixtures` (``from tests.fakes.fixtures import *  # noqa``).
"""
