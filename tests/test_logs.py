"""Secrets never reach log output, whatever logs them."""

from __future__ import annotations

import logging

from bananapics.config import load_config
from bananapics.logs import SecretFilter, setup_logging


def test_configured_secrets_and_known_shapes_are_masked(capsys):
    cfg = load_config(None, environ={
        "BANANAPICS_PROVIDERS__OPENAI_API_KEY": "sk-proj-verysecretvalue",
        "BANANAPICS_TELEGRAM__API_HASH": "0123456789abcdef0123456789abcdef",
    })
    setup_logging(cfg)
    log = logging.getLogger("bananapics.test")
    log.warning("calling with key %s", "sk-proj-verysecretvalue")
    log.warning("token 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw in a url")
    log.warning("headers {'Authorization': 'Bearer abc.def.ghi'} x-goog-api-key: AIzaSyA-secret")
    log.warning("db postgresql://app:hunter2@db:5432/x")
    try:
        raise RuntimeError("failed with 0123456789abcdef0123456789abcdef")
    except RuntimeError:
        log.exception("boom")
    err = capsys.readouterr().err
    for secret in ("sk-proj-verysecretvalue", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "abc.def.ghi",
                   "AIzaSyA-secret", "hunter2", "0123456789abcdef0123456789abcdef"):
        assert secret not in err
    assert err.count("********") >= 6
    assert "postgresql://app:********@db:5432/x" in err
    logging.getLogger().handlers.clear()


def test_plain_messages_pass_unchanged():
    f = SecretFilter(["topsecret"])
    assert f.redact("user 42 paid 50 stars") == "user 42 paid 50 stars"
    assert f.redact("a topsecret b") == "a ******** b"
