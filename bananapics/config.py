"""Typed configuration: ``config.toml`` defaults, ``BANANAPICS_SECTION__KEY`` overrides, secrets.

Load order (later wins): the defaults declared here (``config.toml`` at the repository top documents
the same values), the TOML file, then environment variables ``BANANAPICS_<SECTION>__<KEY>``.

Secrets (bot token, API id/hash, provider keys, S3 keys, queue signing key) may come only from the
environment or from a file named by ``<key>_file`` (in TOML or as ``BANANAPICS_<SECTION>__<KEY>_FILE``).
A secret written directly into a TOML file is refused, so it cannot end up in git. The database and
Redis URLs are secrets when they carry a password (user part or ``?password=``): refused in TOML with
one, loadable from ``url_file`` / ``redis_url_file``, redacted by :func:`redact_url` everywhere.
Telegram and provider URLs must be https (http only to this machine).

Everything is validated at load; a bad file or value raises :class:`~bananapics.errors.ConfigError`
naming the file (or variable), the key and the reason, never a traceback. The config is read once by
the entry point and passed down.
"""

from __future__ import annotations

import ipaddress
import json
import os
import stat
import tomllib
from pathlib import Path
from typing import Any, Literal, get_args, get_origin
from urllib.parse import unquote, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from bananapics.errors import ConfigError
from bananapics.text import UNSAFE

ENV_PREFIX = "BANANAPICS_"
MASK = "********"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _parsable_url(url: str, schemes: tuple[str, ...] | None = None) -> str:
    """Refuse at load what urlsplit cannot take apart (a port that is not a number, a broken IPv6
    host), so it is one line naming the key instead of a ValueError wherever the URL is first used.
    The reason never repeats the URL: it may hold a password."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsed lazily; this is where a bad port raises
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {exc}") from None
    if schemes is not None and parts.scheme not in schemes:
        raise ValueError(f"must start with {', '.join(s + '://' for s in schemes[:-1])} or {schemes[-1]}://")
    return url


# Query parameters that carry a password (psycopg2 takes ``?password=``, libpq ``sslpassword``).
SECRET_QUERY_KEYS = frozenset({"password", "sslpassword", "pass", "passwd", "pwd"})
# URLs that are secrets when they carry a password: never written in a config file with one,
# loadable from ``<key>_file``, masked in every output and log.
SECRET_URLS = frozenset({("database", "url"), ("queue", "redis_url")})


def _split_query(query: str) -> list[tuple[str, str, str]]:
    """(name, "=" or "", value) of each ``&``-separated query item, as written."""
    return [item.partition("=") for item in query.split("&")] if query else []


def url_passwords(url: str) -> list[str]:
    """The passwords a URL carries (in its user part or its query), as written and decoded."""
    try:
        parts = urlsplit(url)
        found = [parts.password] if parts.password else []
    except ValueError:
        return []
    found += [value for name, _, value in _split_query(parts.query)
              if unquote(name).lower() in SECRET_QUERY_KEYS and value]
    return sorted({variant for p in found for variant in (p, unquote(p))}, key=len, reverse=True)


def redact_url(url: str) -> str:
    """The URL with every password (user part, ``?password=``) replaced, for output and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    userinfo, at, hostport = netloc.rpartition("@")  # a password may itself hold "@"
    if at and ":" in userinfo:
        netloc = f"{userinfo.partition(':')[0]}:{MASK}@{hostport}"
    query = "&".join(f"{name}={MASK}" if unquote(name).lower() in SECRET_QUERY_KEYS and sep else name + sep + value
                     for name, sep, value in _split_query(parts.query))
    if (netloc, query) == (parts.netloc, parts.query):
        return url  # urlunsplit would turn sqlite:///x into sqlite:/x
    return urlunsplit(parts._replace(netloc=netloc, query=query))


LOOPBACK_NAMES = ("localhost",)


def _secure_url(url: str) -> str:
    """https://, or http:// to this machine only (a local Bot API server, a test fake): a token or key
    sent over plain http to another host could be read on the way."""
    _parsable_url(url, ("http", "https"))
    parts = urlsplit(url)
    if parts.scheme == "https":
        return url
    host = (parts.hostname or "").lower()
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host in LOOPBACK_NAMES or host.endswith(".localhost")
    if not loopback:
        raise ValueError("must use https:// (http:// is allowed only to localhost: the bot token or API key "
                         "would travel in clear)")
    return url


class DatabaseConfig(Section):
    url: str = Field("sqlite:///data/bananapics.db", description="sqlite:///relative.db, sqlite:////abs.db or postgresql://user@host:port/db")
    pool_max: int = Field(20, ge=1, le=1000, description="Postgres pool: most connections per process")
    pool_timeout_s: float = Field(10.0, gt=0, description="Postgres pool: seconds to wait for a free connection")
    pool_stale_s: int = Field(300, ge=1, description="Postgres pool: recycle connections idle this long")
    busy_timeout_ms: int = Field(10000, ge=0, description="SQLite: wait this long for the write lock")
    sqlite_synchronous: Literal["full", "normal"] = Field("full", description="SQLite fsync policy; full never loses a commit")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        _parsable_url(value)
        if value.split("://", 1)[0].split("+")[0] == "sqlite" and value.split("://", 1)[-1].lstrip("/") in ("", ":memory:"):
            # each pooled connection would get a database of its own, empty and gone at exit
            raise ValueError("SQLite needs a file: sqlite:///relative.db or sqlite:////absolute.db")
        return value


class QueueConfig(Section):
    backend: Literal["sqlite", "redis", "immediate"] = Field("sqlite", description="Huey storage")
    sqlite_path: str = Field("data/queue.db", description="SqliteHuey file, separate from the main database")
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="RedisHuey server")
    workers: int = Field(8, ge=1, le=512, description="thread workers per consumer process")
    signing_key: SecretStr | None = Field(None, description="secret: HMAC key for task payloads")

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        return _parsable_url(value, ("redis", "rediss", "unix"))


class TelegramConfig(Section):
    api_id: SecretStr | None = Field(None, description="secret: my.telegram.org api_id")
    api_hash: SecretStr | None = Field(None, description="secret: my.telegram.org api_hash")
    bot_token: SecretStr | None = Field(None, description="secret: BotFather token")
    bot_username: str = Field("BananaPicsBot", description="used in referral links t.me/<bot>?start=ref_<code>")
    session_path: str = Field("data/bot.session", description="Telethon session file (a credential: mode 600)")
    send_per_second: int = Field(28, ge=1, le=30, description="delivery: most messages per second over all chats (Telegram allows ~30)")
    support_contact: str = Field("@BananaPicsSupport", description="where /support and /paysupport send people")
    bot_api_url: str = Field("https://api.telegram.org", description="Bot API server the CLI and workers use for refunds and reconcile")
    reconcile_minutes: int = Field(30, ge=0, le=1440, description="how often workers reconcile the Stars history; 0 = never")

    @field_validator("bot_api_url")
    @classmethod
    def _bot_api_url(cls, value: str) -> str:
        return _secure_url(value)


class AdminConfig(Section):
    bootstrap_ids: list[int] = Field(default_factory=list, description="Telegram ids that are always admins")


class OperatorConfig(Section):
    name: str = Field("operator", min_length=1, max_length=64, description="who CLI/TUI actions are recorded as")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if UNSAFE.search(value):  # it goes into the admin log and onto other operators' terminals
            raise ValueError("control and bidi characters are not allowed")
        return value


class UsersConfig(Section):
    start_balance: int = Field(0, ge=0, description="tokens granted once to every new user")
    default_language: Literal["uz", "ru", "en"] = Field("uz", description="language when Telegram's is unknown")


class StorageConfig(Section):
    backend: Literal["local", "s3"] = Field("local", description="where images are kept")
    path: str = Field("data/media", description="local storage directory")
    s3_endpoint: str = Field("", description="S3-compatible endpoint URL")
    s3_bucket: str = Field("", description="S3 bucket")
    s3_region: str = Field("", description="S3 region")
    retention_days: int = Field(30, ge=0, le=3650, description="delete images and references older than this; 0 keeps them")
    s3_access_key: SecretStr | None = Field(None, description="secret: S3 access key")
    s3_secret_key: SecretStr | None = Field(None, description="secret: S3 secret key")


class ProvidersConfig(Section):
    gemini_base_url: str = Field("https://generativelanguage.googleapis.com/v1beta", description="Gemini API")
    openai_base_url: str = Field("https://api.openai.com/v1", description="OpenAI API")
    ark_base_url: str = Field("https://ark.ap-southeast.bytepluses.com/api/v3", description="BytePlus ModelArk")
    fal_base_url: str = Field("https://queue.fal.run", description="fal queue")
    timeout_s: float = Field(90.0, gt=0, description="per provider call; below the job lease")
    force_provider: Literal["", "local", "gemini", "openai", "seedream", "fal"] = Field(
        "", description="route every model to this adapter (\"local\": offline demo); empty uses each model's own")
    local_latency_s: float = Field(0.0, ge=0, le=600, description="offline `local` provider: seconds per call")
    local_failure_rate: float = Field(0.0, ge=0, le=1, description="offline `local` provider: share of jobs that fail")
    gemini_api_key: SecretStr | None = Field(None, description="secret: Gemini key")
    openai_api_key: SecretStr | None = Field(None, description="secret: OpenAI key")
    ark_api_key: SecretStr | None = Field(None, description="secret: ModelArk key")
    fal_api_key: SecretStr | None = Field(None, description="secret: fal key")
    breaker_failures: int = Field(5, ge=0, le=1000, description=(
        "consecutive provider failures after which a model is temporarily unavailable (0: never)"))
    breaker_cooldown_seconds: float = Field(60.0, gt=0, le=86400, description=(
        "how long a model stays unavailable before one job is let through to probe the provider"))

    @field_validator("gemini_base_url", "openai_base_url", "ark_base_url", "fal_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return _secure_url(value)


class JobsConfig(Section):
    lease_s: float = Field(150.0, gt=0, description="a claimed job's lease; longer than the provider timeout")
    deadline_s: float = Field(900.0, gt=0, description="a paid job not finished by then is refunded")
    requeue_after_s: float = Field(120.0, gt=0, description="re-enqueue a job queued this long")
    sweep_minutes: int = Field(1, ge=1, le=59, description="how often the sweeper runs")
    output_dir: str = Field("data/out", description="where `bananapics generate` writes images by default")


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="log level")
    format: Literal["text", "json", "auto"] = Field("auto", description="text, json (one object a line) or auto: json when stderr is not a terminal")


class MetricsConfig(Section):
    port: int = Field(0, ge=0, le=65535, description="Prometheus /metrics port of each bot and worker process; 0 = off")
    host: str = Field("127.0.0.1", description="address the metrics server listens on (0.0.0.0 in a container)")
    verify_minutes: int = Field(10, ge=0, le=1440, description="how often one worker runs the ledger verify for the breaches gauge; 0 = never")


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    queue: QueueConfig = Field(default_factory=QueueConfig)
    telegram: TelegramConfig = Field(default_factory=TelegramConfig)
    admin: AdminConfig = Field(default_factory=AdminConfig)
    operator: OperatorConfig = Field(default_factory=OperatorConfig)
    users: UsersConfig = Field(default_factory=UsersConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    providers: ProvidersConfig = Field(default_factory=ProvidersConfig)
    jobs: JobsConfig = Field(default_factory=JobsConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)

    source: str = Field("defaults", exclude=True)

    @model_validator(mode="after")
    def _lease_outlives_provider_calls(self) -> "Config":
        if self.jobs.lease_s <= self.providers.timeout_s:
            raise ValueError(f"[jobs] lease_s ({self.jobs.lease_s:g}) must be longer than [providers] timeout_s "
                             f"({self.providers.timeout_s:g}), or a slow call would be run twice")
        return self

    def show(self) -> dict[str, dict[str, Any]]:
        """The effective config as plain data with every secret masked."""
        out: dict[str, dict[str, Any]] = {}
        for name in SECTIONS:
            section = getattr(self, name)
            values: dict[str, Any] = {}
            for key in type(section).model_fields:
                value = getattr(section, key)
                if isinstance(value, SecretStr):
                    value = MASK
                elif (name, key) in SECRET_URLS:
                    value = redact_url(value)
                values[key] = value
            out[name] = values
        return out

    def secret_values(self) -> list[str]:
        """Every secret that is set, for log filters that must never print them."""
        found = []
        for name in SECTIONS:
            section = getattr(self, name)
            for key in type(section).model_fields:
                value = getattr(section, key)
                if isinstance(value, SecretStr) and value.get_secret_value():
                    found.append(value.get_secret_value())
        for section, key in SECRET_URLS:
            found.extend(url_passwords(getattr(getattr(self, section), key)))
        return found


SECTIONS: tuple[str, ...] = tuple(k for k in Config.model_fields if k != "source")


def _section_cls(name: str) -> type[Section]:
    return Config.model_fields[name].annotation  # type: ignore[return-value]


def is_secret(section: str, key: str) -> bool:
    field = _section_cls(section).model_fields.get(key)
    return field is not None and SecretStr in get_args(field.annotation)


def _file_key(section: str, key: str) -> str | None:
    """The key a ``<key>_file`` entry fills (a secret, or a URL that may carry a password), else None."""
    base = key.removesuffix("_file")
    if base != key and (is_secret(section, base) or (section, base) in SECRET_URLS):
        return base
    return None


def _env_value(section: str, key: str, raw: str) -> Any:
    """Env values are strings; lists accept JSON or comma-separated items."""
    field = _section_cls(section).model_fields.get(key)
    if field is not None and get_origin(field.annotation) is list:
        raw = raw.strip()
        if raw.startswith("["):
            try:
                return json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not a JSON list ({exc.msg})") from None
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


SECRET_FILE_MAX = 64 * 1024  # a token, key or URL; a device like /dev/zero would be read without end


def _read_secret_file(origin: str, section: str, key: str, path: str) -> str:
    try:
        file = Path(path).expanduser()
        if not stat.S_ISREG(file.stat().st_mode):  # before open(): opening a FIFO waits for a writer
            raise ConfigError(f"{origin}: [{section}] {key}_file: cannot read {path}: not a regular file")
        with file.open("rb") as handle:
            raw = handle.read(SECRET_FILE_MAX + 1)
        if len(raw) > SECRET_FILE_MAX:
            raise ConfigError(f"{origin}: [{section}] {key}_file: {path} is larger than {SECRET_FILE_MAX // 1024} KB")
        value = raw.decode("utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{origin}: [{section}] {key}_file: cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:  # the decoder's message quotes a byte of the secret: not repeated
        raise ConfigError(f"{origin}: [{section}] {key}_file: cannot read {path}: not UTF-8 text") from None
    if not value:
        raise ConfigError(f"{origin}: [{section}] {key}_file: {path} is empty")
    return value


Origins = dict[tuple[str, str], str]


def _merge_file(data: dict[str, dict[str, Any]], path: Path, origins: Origins) -> None:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: cannot read: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    for section, values in raw.items():
        if section not in SECTIONS:
            raise ConfigError(f"{path}: [{section}]: unknown section (known: {', '.join(SECTIONS)})")
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: {section}: must be a table [{section}]")
        for key, value in values.items():
            if _file_key(section, key):
                data[section][key[:-5]] = _read_secret_file(str(path), section, key[:-5], str(value))
            elif (section, key) in SECRET_URLS and isinstance(value, str) and url_passwords(value):
                raise ConfigError(
                    f"{path}: [{section}] {key}: a URL with a password may not be written in a config file; "
                    f"set {ENV_PREFIX}{section.upper()}__{key.upper()} or {key}_file"
                )
            elif is_secret(section, key):
                raise ConfigError(
                    f"{path}: [{section}] {key}: secrets may not be written in a config file; "
                    f"set {ENV_PREFIX}{section.upper()}__{key.upper()} or {key}_file"
                )
            else:
                data[section][key] = value
            origins[(section, key.removesuffix("_file"))] = str(path)


def _merge_env(data: dict[str, dict[str, Any]], environ: dict[str, str], origins: Origins) -> None:
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        try:
            raw.encode("utf-8")
        except UnicodeEncodeError:  # bytes that are not UTF-8: Python hands them over as lone surrogates
            raise ConfigError(f"environment {name}: not valid UTF-8 text") from None
        section, _, key = name[len(ENV_PREFIX):].lower().partition("__")
        if section not in SECTIONS:
            raise ConfigError(f"environment {name}: unknown section {section!r}")
        if _file_key(section, key):
            data[section][key[:-5]] = _read_secret_file(f"environment {name}", section, key[:-5], raw)
            origins[(section, key[:-5])] = f"environment {name}"
            continue
        try:
            data[section][key] = _env_value(section, key, raw)
        except ValueError as exc:
            raise ConfigError(f"environment {name}: {exc}") from None
        origins[(section, key)] = f"environment {name}"


def _describe(exc: ValidationError, origin: str, origins: Origins) -> str:
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    if not loc:  # a cross-section rule
        return f"{origin}: {err['msg'].removeprefix('Value error, ')}"
    if len(loc) > 1:
        origin = origins.get((loc[0], loc[1]), origin)
    where = f"[{loc[0]}] {'.'.join(loc[1:])}" if len(loc) > 1 else ".".join(loc)
    reason = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        reason = "unknown key"
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"{origin}: {where}: {reason}{more}"


def find_config_file(explicit: str | os.PathLike[str] | None, environ: dict[str, str]) -> Path | None:
    if explicit:
        return Path(explicit)
    if environ.get("BANANAPICS_CONFIG"):
        return Path(environ["BANANAPICS_CONFIG"])
    default = Path("config.toml")
    return default if default.is_file() else None


def load_config(path: str | os.PathLike[str] | None = None, environ: dict[str, str] | None = None) -> Config:
    """Read, merge and validate the config. Raises ConfigError with file, key and reason."""
    environ = dict(os.environ if environ is None else environ)
    file = find_config_file(path, environ)
    data: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    origins: Origins = {}
    if file is not None:
        if not file.is_file():
            raise ConfigError(f"{file}: config file not found")
        _merge_file(data, file, origins)
    _merge_env(data, environ, origins)
    origin = str(file) if file is not None else "defaults"
    env_keys = sorted(k for k in environ if k.startswith(ENV_PREFIX) and "__" in k)
    if env_keys:
        origin += " + environment"
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origin, origins)) from None
    config.source = origin
    return config
