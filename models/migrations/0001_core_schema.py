"""Core schema: users, ledger (transfers, holds, system accounts), settings, admin log,
model catalog, packages, invoice intents, payments. Frozen copies of the models at this version."""

import datetime

import peewee as pw


def _now():
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def up(migrator, db):
    class Base(pw.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class User(Base):
        id = pw.BigAutoField()
        tg_id = pw.BigIntegerField(unique=True)
        username = pw.CharField(max_length=64, null=True)
        first_name = pw.CharField(max_length=128, default="")
        last_name = pw.CharField(max_length=128, default="")
        language = pw.CharField(max_length=8, default="uz")
        role = pw.CharField(max_length=16, default="user")
        banned = pw.BooleanField(default=False)
        ban_reason = pw.TextField(null=True)
        banned_at = pw.DateTimeField(null=True)
        referral_code = pw.CharField(max_length=16, unique=True)
        referrer = pw.ForeignKeyField("self", null=True, on_delete="RESTRICT")
        referred_at = pw.DateTimeField(null=True)
        available = pw.BigIntegerField(default=0)
        held = pw.BigIntegerField(default=0)
        first_topup_at = pw.DateTimeField(null=True)
        created_at = pw.DateTimeField(default=_now)
        updated_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "users"
            constraints = [
                pw.Check("available >= 0"),
                pw.Check("held >= 0"),
                pw.Check("role IN ('user', 'support', 'admin')"),
                pw.Check("referrer_id IS NULL OR referrer_id <> id"),
            ]

    class SystemAccount(Base):
        name = pw.CharField(max_length=32, primary_key=True)
        description = pw.TextField(default="")

        class Meta:
            table_name = "system_accounts"

    class Transfer(Base):
        id = pw.BigAutoField()
        kind = pw.CharField(max_length=24)
        ref = pw.CharField(max_length=128)
        amount = pw.BigIntegerField()
        debit_user = pw.ForeignKeyField(User, null=True, column_name="debit_user_id", on_delete="RESTRICT", index=False)
        debit_account = pw.CharField(max_length=32)
        credit_user = pw.ForeignKeyField(User, null=True, column_name="credit_user_id", on_delete="RESTRICT", index=False)
        credit_account = pw.CharField(max_length=32)
        actor = pw.CharField(max_length=96, default="system")
        reason = pw.TextField(null=True)
        created_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "transfers"
            indexes = ((("kind", "ref"), True),)
            constraints = [
                pw.Check("amount > 0"),
                pw.Check("(debit_user_id IS NULL) = (debit_account NOT IN ('available', 'held'))"),
                pw.Check("(credit_user_id IS NULL) = (credit_account NOT IN ('available', 'held'))"),
                pw.Check(
                    "NOT (debit_account = credit_account AND "
                    "COALESCE(debit_user_id, -1) = COALESCE(credit_user_id, -1))"
                ),
            ]

    class Hold(Base):
        ref = pw.CharField(max_length=128, primary_key=True)
        user = pw.ForeignKeyField(User, on_delete="RESTRICT", index=False)
        amount = pw.BigIntegerField()
        status = pw.CharField(max_length=12, default="open")
        settled = pw.BigIntegerField(default=0)
        refunded = pw.BigIntegerField(default=0)
        created_at = pw.DateTimeField(default=_now)
        closed_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "holds"
            indexes = ((("user", "status"), False),)
            constraints = [
                pw.Check("amount > 0"),
                pw.Check("settled >= 0 AND refunded >= 0"),
                pw.Check("status IN ('open', 'closed')"),
                pw.Check(
                    "(status = 'open' AND settled = 0 AND refunded = 0) OR "
                    "(status = 'closed' AND settled + refunded = amount)"
                ),
            ]

    class Setting(Base):
        key = pw.CharField(max_length=64, primary_key=True)
        type = pw.CharField(max_length=8)
        value = pw.TextField()
        version = pw.IntegerField(default=1)
        updated_at = pw.DateTimeField(default=_now)
        updated_by = pw.CharField(max_length=96, default="system")

        class Meta:
            table_name = "settings"
            constraints = [pw.Check("type IN ('int', 'bool', 'str', 'float', 'json')")]

    class AdminAction(Base):
        id = pw.BigAutoField()
        actor = pw.CharField(max_length=96)
        action = pw.CharField(max_length=48)
        target = pw.CharField(max_length=128, default="")
        before = pw.TextField(null=True)
        after = pw.TextField(null=True)
        reason = pw.TextField(null=True)
        created_at = pw.DateTimeField(default=_now, index=True)

        class Meta:
            table_name = "admin_actions"
            indexes = ((("target", "created_at"), False),)

    class AiModel(Base):
        id = pw.CharField(max_length=32, primary_key=True)
        name = pw.CharField(max_length=64)
        provider = pw.CharField(max_length=16)
        provider_model = pw.CharField(max_length=96)
        enabled = pw.BooleanField(default=True)
        is_default = pw.BooleanField(default=False)
        sort = pw.IntegerField(default=0)
        base_price = pw.IntegerField()
        pricing = pw.TextField(default="{}")
        limits = pw.TextField(default="{}")
        updated_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "ai_models"
            constraints = [pw.Check("base_price >= 0")]

    class Package(Base):
        id = pw.AutoField()
        stars = pw.IntegerField()
        tokens = pw.IntegerField()
        bonus_pct = pw.IntegerField(default=0)
        active = pw.BooleanField(default=True)
        sort = pw.IntegerField(default=0)
        created_at = pw.DateTimeField(default=_now)

        class Meta:
            table_name = "packages"
            constraints = [pw.Check("stars > 0"), pw.Check("tokens > 0"), pw.Check("bonus_pct BETWEEN 0 AND 1000")]

    class InvoiceIntent(Base):
        id = pw.BigAutoField()
        payload = pw.CharField(max_length=64, unique=True)
        user = pw.ForeignKeyField(User, on_delete="RESTRICT", index=False)
        package = pw.ForeignKeyField(Package, on_delete="RESTRICT")
        stars = pw.IntegerField()
        tokens = pw.IntegerField()
        bonus_tokens = pw.IntegerField(default=0)
        status = pw.CharField(max_length=12, default="open")
        expires_at = pw.DateTimeField()
        created_at = pw.DateTimeField(default=_now)
        paid_at = pw.DateTimeField(null=True)
        charge_id = pw.CharField(max_length=128, null=True)

        class Meta:
            table_name = "invoice_intents"
            indexes = ((("user", "created_at"), False), (("status", "expires_at"), False))
            constraints = [pw.Check("stars > 0"), pw.Check("status IN ('open', 'paid', 'expired')")]

    class Payment(Base):
        id = pw.BigAutoField()
        charge_id = pw.CharField(max_length=128, unique=True)
        provider_charge_id = pw.CharField(max_length=128, default="")
        user = pw.ForeignKeyField(User, on_delete="RESTRICT", index=False)
        intent = pw.ForeignKeyField(InvoiceIntent, null=True, on_delete="RESTRICT")
        stars = pw.IntegerField()
        tokens = pw.IntegerField()
        bonus_tokens = pw.IntegerField(default=0)
        status = pw.CharField(max_length=12, default="paid")
        created_at = pw.DateTimeField(default=_now)
        refunded_at = pw.DateTimeField(null=True)
        refund_reason = pw.TextField(null=True)

        class Meta:
            table_name = "payments"
            indexes = ((("user", "created_at"), False),)
            constraints = [pw.Check("stars > 0"), pw.Check("status IN ('paid', 'refunded')")]

    db.create_tables([User, SystemAccount, Transfer, Hold, Setting, AdminAction, AiModel, Package, InvoiceIntent, Payment])

    # Ledger statements by user (either side) for `ledger show`, newest first.
    db.execute_sql("CREATE INDEX transfers_debit_user ON transfers (debit_user_id, id) WHERE debit_user_id IS NOT NULL")
    db.execute_sql("CREATE INDEX transfers_credit_user ON transfers (credit_user_id, id) WHERE credit_user_id IS NOT NULL")
    # Admin search: exact tg_id (unique index above), username and names case-insensitively.
    db.execute_sql("CREATE INDEX users_username_lower ON users (lower(username))")
    db.execute_sql("CREATE INDEX users_first_name_lower ON users (lower(first_name))")

    if isinstance(db, pw.PostgresqlDatabase):
        _postgres_extras(db)
    else:
        _sqlite_extras(db)


def _postgres_extras(db):
    # Prefix search without trigram support still uses these.
    db.execute_sql("CREATE INDEX users_username_prefix ON users (lower(username) text_pattern_ops)")
    db.execute_sql("CREATE INDEX users_name_prefix ON users (lower(first_name || ' ' || last_name) text_pattern_ops)")
    # Substring search over 1M users: a trigram GIN index when pg_trgm can be created.
    db.execute_sql("SAVEPOINT trgm")
    try:
        db.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        db.execute_sql(
            "CREATE INDEX users_search_trgm ON users USING gin "
            "((lower(coalesce(username, '') || ' ' || first_name || ' ' || last_name)) gin_trgm_ops)"
        )
        db.execute_sql("RELEASE SAVEPOINT trgm")
    except pw.DatabaseError:
        db.execute_sql("ROLLBACK TO SAVEPOINT trgm")
    # Transfers are append-only: corrections are new transfers, never edits.
    db.execute_sql(
        "CREATE FUNCTION transfers_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'transfers are append-only'; END $$"
    )
    db.execute_sql(
        "CREATE TRIGGER transfers_no_change BEFORE UPDATE OR DELETE ON transfers "
        "FOR EACH ROW EXECUTE FUNCTION transfers_append_only()"
    )


def _sqlite_extras(db):
    db.execute_sql("CREATE INDEX users_name_lower ON users (lower(first_name || ' ' || last_name))")
    for event in ("UPDATE", "DELETE"):
        db.execute_sql(
            f"CREATE TRIGGER transfers_no_{event.lower()} BEFORE {event} ON transfers "
            "BEGIN SELECT RAISE(ABORT, 'transfers are append-only'); END"
        )
