"""services.search on SQLite and Postgres: what each kind of query finds, the capped total, keyset
pages that never repeat or skip a row, and who may search."""

from __future__ import annotations

import pytest

from bananapics.errors import InvalidInput, PermissionDenied
from bananapics.models import AdminAction, User
from bananapics.services import payments, search, users
from bananapics.services.audit import Actor
from tests.helpers import new_user

OPS = Actor.operator("ops")


def ids(hits: search.Hits) -> list[int]:
    return [u.tg_id for u in hits.rows]


def test_each_kind_of_query_finds_its_user(database):
    anna = new_user(first_name="Anna", last_name="Karenina", username="anna_k")
    bob = new_user(first_name="Bob", last_name="Marley", username="bobby")
    new_user(first_name="Annabel", last_name="Lee", username="lee")
    payments.credit(bob.id, "stxCHARGE-0001-abcdef", stars=50, tokens=100)

    by_id = search.users(OPS, str(anna.tg_id))
    assert (by_id.kind, ids(by_id), by_id.total, by_id.next) == ("id", [anna.tg_id], 1, None)
    assert search.users(OPS, "@ANNA_").kind == "username" and ids(search.users(OPS, "@ANNA_")) == [anna.tg_id]
    assert ids(search.users(OPS, "stxCHARGE-0001-abcdef")) == [bob.tg_id]
    assert search.users(OPS, "stxCHARGE-0001-abcdef").kind == "charge"
    code = users.get(anna.tg_id).referral_code
    for query in (code, code.upper(), f"ref_{code}"):
        hits = search.users(OPS, query)
        assert (hits.kind, ids(hits)) == ("referral", [anna.tg_id])
    name = search.users(OPS, "anna")  # substring of names and usernames, newest first
    assert name.kind == "name" and set(ids(name)) == {anna.tg_id} | {u.tg_id for u in search.users(OPS, "annab").rows}
    assert ids(search.users(OPS, "arle")) == [bob.tg_id]  # inside the last name
    assert ids(search.users(OPS, "Ma")) == [bob.tg_id]  # short: start of a last name …
    assert ids(search.users(OPS, "ar")) == []  # … not any part of it
    assert ids(search.users(OPS, "99999999999")) == [] and ids(search.users(OPS, "9" * 40)) == []


def test_like_wildcards_and_username_underscores_are_plain_text(database):
    under = new_user(first_name="X", username="a_b")
    new_user(first_name="Y", username="axb")
    new_user(first_name="100% real", username="pct")
    assert ids(search.users(OPS, "@a_")) == [under.tg_id]
    assert len(search.users(OPS, "% r").rows) == 1
    assert search.users(OPS, "@").kind == "name"  # a bare @ is text, not an empty prefix


def test_total_is_capped_and_pages_cover_every_row_once(database, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 7)
    made = [new_user(first_name=f"Pat{n:02d}", username=f"pat{n:02d}").tg_id for n in range(12)]
    new_user(first_name="Other", username="zed")
    for query in ("@pat", "pat"):
        seen, after, pages = [], None, 0
        while True:
            hits = search.users(OPS, query, limit=5, after=after)
            assert (hits.total, hits.total_capped) == (7, True)
            seen += ids(hits)
            pages += 1
            after = hits.next
            if after is None:
                break
        assert sorted(seen) == sorted(made) and len(seen) == 12 and pages == 3
    first = search.users(OPS, "@pat", limit=5)
    assert ids(first) == made[:5]  # usernames alphabetically
    assert search.total_label(first) == "5 of 7+"
    assert ids(search.users(OPS, "pat", limit=5)) == made[::-1][:5]  # names newest first
    exact = search.users(OPS, "@zed")
    assert search.total_label(exact) == "1 of 1" and search.total_label(first, shown=10) == "10 of 7+"


def test_rows_first_and_the_count_after_with_only_the_columns_asked_for(database, monkeypatch):
    """count=False leaves the count query out (the TUI shows the rows, then asks total()); fields
    loads only the columns a caller shows (and the id and username the cursors need)."""
    monkeypatch.setattr(search, "COUNT_CAP", 7)
    made = [new_user(first_name=f"Pat{n:02d}", username=f"pat{n:02d}").tg_id for n in range(12)]
    for query in ("@pat", "pat"):
        full = search.users(OPS, query, limit=5)
        quick = search.users(OPS, query, limit=5, count=False, fields=["tg_id", "first_name"])
        assert (ids(quick), quick.next, quick.kind) == (ids(full), full.next, full.kind)
        assert (quick.total, quick.total_capped, quick.counted) == (5, True, False)
        assert full.counted and search.total(OPS, query) == (full.total, full.total_capped) == (7, True)
        second = search.users(OPS, query, limit=5, after=quick.next, count=False)
        assert ids(second) == ids(search.users(OPS, query, limit=5, after=full.next)) and not second.counted
        assert set(quick.rows[0].__data__) == {"id", "username", "tg_id", "first_name"}
        assert quick.rows[0].first_name.startswith("Pat") and quick.rows[0].username.startswith("pat")
    whole = search.users(OPS, "@pat1", count=False)  # a first page that holds every match is its own count
    assert (ids(whole), whole.total, whole.total_capped, whole.counted) == (made[10:], 2, False, True)
    assert search.total(OPS, "@pat1") == (2, False) and search.total(OPS, "pat0") == (7, True)
    assert search.total(OPS, str(made[0])) == (1, False) and search.total(OPS, "99999999999") == (0, False)
    with pytest.raises(InvalidInput):
        search.total(OPS, "  ")
    for fields in (["tg_id", "password"], "tg_id"):
        with pytest.raises(InvalidInput):
            search.users(OPS, "pat", fields=fields)
    with pytest.raises(PermissionDenied):
        search.total(Actor.for_user(User.get(User.tg_id == made[0])), "pat")


def test_bad_input_and_cursors_are_refused(database):
    new_user(first_name="Ann", username="ann")
    for query in ("", "   ", None):
        with pytest.raises(InvalidInput):
            search.users(OPS, query)
    for limit in (0, 10_001, True, "5"):
        with pytest.raises(InvalidInput):
            search.users(OPS, "ann", limit=limit)
    with pytest.raises(InvalidInput):
        search.users(OPS, "@ann", after="garbage")
    with pytest.raises(InvalidInput):
        search.users(OPS, "ann", after="12|x")


def test_search_needs_the_read_permission_from_the_database(database):
    plain = new_user(first_name="Plain")
    with pytest.raises(PermissionDenied):
        search.users(Actor.for_user(plain), "plain")
    assert AdminAction.select().where(AdminAction.outcome == "denied").count() == 1
    users.set_role(plain.tg_id, "support", actor=OPS)
    assert ids(search.users(Actor.for_user(plain), "plain")) == [plain.tg_id]
