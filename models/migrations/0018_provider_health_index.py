"""Provider health (the dashboard, refreshed every second, and the admin's system screen) as index
seeks: ``jobs (provider, status, finished_at)`` replaces ``jobs (provider, finished_at)`` (0012).

"Last error of provider X" is ``provider = X AND status = 'failed'`` newest first. With only
(provider, finished_at) or (status, finished_at) one of the two is a filter: SQLite took
``jobs_status_finished`` and walked every failed job of every provider (each a table lookup) for a
provider with no failure — 5 ms per provider at 50k jobs, most of a dashboard refresh — and the
other index walks every success of a provider that rarely fails. With the status in the index each
figure is one seek (the successes are two: ``succeeded`` and ``partial``). The old index had no
other user, so jobs keep the same number of indexes to maintain.
"""


def up(migrator, db):
    db.execute_sql("CREATE INDEX jobs_provider_status_finished ON jobs (provider, status, finished_at)")
    db.execute_sql("DROP INDEX IF EXISTS jobs_provider_finished")


def down(migrator, db):
    db.execute_sql("CREATE INDEX jobs_provider_finished ON jobs (provider, finished_at)")
    db.execute_sql("DROP INDEX IF EXISTS jobs_provider_status_finished")
