"""Seed data: system accounts, the four models of the spec with pricing rules and limits,
default Stars packages and the default referral rule. Admins change all of it later."""

import datetime
import json

RATIOS = ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"]

SYSTEM_ACCOUNTS = [
    ("stars_in", "tokens bought with Telegram Stars (source)"),
    ("bonus", "tokens given away: package bonuses, welcome grants (source)"),
    ("referral", "referral cashback paid to referrers (source)"),
    ("adjustment", "manual admin adjustments (source or sink)"),
    ("revenue", "tokens spent on generations (sink)"),
]

# Prices in tokens per image (1 token ~ 0.5 Star in the default packages).
MODELS = [
    {
        "id": "nano-banana", "name": "Nano Banana", "provider": "gemini",
        "provider_model": "gemini-3.1-flash-image", "is_default": True, "sort": 10, "base_price": 15,
        "pricing": {"resolution": {"1K": 0, "2K": 8, "4K": 20}, "per_reference": 1},
        "limits": {"max_refs": 14, "max_count": 4, "resolutions": ["1K", "2K", "4K"],
                   "aspect_ratios": RATIOS + ["1:4", "4:1"], "formats": ["png"],
                   "alt_provider_models": ["gemini-2.5-flash-image"]},
    },
    {
        "id": "nano-banana-pro", "name": "Nano Banana Pro", "provider": "gemini",
        "provider_model": "gemini-3-pro-image", "is_default": False, "sort": 20, "base_price": 30,
        "pricing": {"resolution": {"1K": 0, "2K": 0, "4K": 25}, "per_reference": 1},
        "limits": {"max_refs": 14, "max_count": 4, "resolutions": ["1K", "2K", "4K"],
                   "aspect_ratios": RATIOS, "formats": ["png"]},
    },
    {
        "id": "seedream-4", "name": "SeeDream 4", "provider": "seedream",
        "provider_model": "seedream-4-0-250828", "is_default": False, "sort": 30, "base_price": 10,
        "pricing": {"resolution": {"1K": 0, "2K": 0, "4K": 6}, "per_reference": 0},
        "limits": {"max_refs": 10, "max_count": 4, "resolutions": ["1K", "2K", "4K"],
                   "aspect_ratios": RATIOS, "formats": ["jpeg", "png"]},
    },
    {
        "id": "gpt-image", "name": "GPT Image", "provider": "openai",
        "provider_model": "gpt-image-1.5", "is_default": False, "sort": 40, "base_price": 5,
        "pricing": {"quality": {"low": 0, "medium": 6, "high": 25}, "per_reference": 1},
        "limits": {"max_refs": 16, "max_count": 4, "qualities": ["low", "medium", "high"],
                   "aspect_ratios": ["1:1", "2:3", "3:2"], "formats": ["png", "jpeg", "webp"],
                   "alt_provider_models": ["gpt-image-2"]},
    },
]

# (stars, tokens, bonus %): 2 tokens per Star, bigger packages earn a bonus.
PACKAGES = [(50, 100, 0), (100, 200, 5), (250, 500, 10), (500, 1000, 15), (1000, 2000, 20)]

SETTINGS = [
    ("referral.percent", "int", 10),
    ("referral.mode", "str", "every"),
]


def up(migrator, db):
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    p = db.param
    for name, description in SYSTEM_ACCOUNTS:
        db.execute_sql(f"INSERT INTO system_accounts (name, description) VALUES ({p}, {p})", (name, description))
    for m in MODELS:
        db.execute_sql(
            "INSERT INTO ai_models (id, name, provider, provider_model, enabled, is_default, sort, base_price,"
            f" pricing, limits, updated_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})",
            (m["id"], m["name"], m["provider"], m["provider_model"], True, m["is_default"], m["sort"],
             m["base_price"], json.dumps(m["pricing"]), json.dumps(m["limits"]), now),
        )
    for sort, (stars, tokens, bonus) in enumerate(PACKAGES):
        db.execute_sql(
            f"INSERT INTO packages (stars, tokens, bonus_pct, active, sort, created_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p})",
            (stars, tokens, bonus, True, sort * 10, now),
        )
    for key, type_, value in SETTINGS:
        db.execute_sql(
            f"INSERT INTO settings (key, type, value, version, updated_at, updated_by) VALUES ({p}, {p}, {p}, 1, {p}, 'migration')",
            (key, type_, json.dumps(value), now),
        )
