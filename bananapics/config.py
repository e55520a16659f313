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
import re
from typing import Annotated, Any, Callable, ClassVar, Literal, get_args, get_origin
from urllib.parse import unquote, urlsplit, urlunsplit

import msgspec
from msgspec import Meta, field

from bananapics.errors import ConfigError
from bananapics.text import UNSAFE

ENV_PREFIX = "BANANAPICS_"
MASK = "********"


class SecretStr:
    """A secret value: ``get_secret_value()`` gives it, ``repr``/``str`` never do."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"SecretStr('{MASK}')" if self._value else "SecretStr('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class Section(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One ``[section]`` of the config. msgspec (not pydantic): it checks the same bounds and types and
    imports in a few milliseconds, which every CLI command pays (``bench/startup.py``). Rules that are
    not bounds (URLs, names) are ``CHECKS``: field name → function(value) returning the value or raising
    ValueError with the reason."""

    CHECKS: ClassVar[dict[str, Callable[[Any], Any]]] = {}

    @classmethod
    def build(cls, **values: Any) -> Any:
        """A section from plain values, checked and converted like the file's (secrets from str).
        The constructor itself trusts its arguments' types: it is for code, not for input."""
        return msgspec.convert(values, cls, strict=False, dec_hook=_secret)

    def __post_init__(self) -> None:
        for name, check in self.CHECKS.items():
            try:
                check(getattr(self, name))
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None


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


def _sqlite_needs_file(value: str) -> None:
    _parsable_url(value)
    if value.split("://", 1)[0].split("+")[0] == "sqlite" and value.split("://", 1)[-1].lstrip("/") in ("", ":memory:"):
        # each pooled connection would get a database of its own, empty and gone at exit
        raise ValueError("SQLite needs a file: sqlite:///relative.db or sqlite:////absolute.db")


def _safe_name(value: str) -> None:
    if UNSAFE.search(value):  # it goes into the admin log and onto other operators' terminals
        raise ValueError("control and bidi characters are not allowed")


def D(text: str, **bounds: Any) -> Meta:
    """A field's description (``config show``, config.toml) and its bounds."""
    return Meta(description=text, **bounds)


class DatabaseConfig(Section):
    url: Annotated[str, D("sqlite:///relative.db, sqlite:////abs.db or postgresql://user@host:port/db")] = "sqlite:///data/bananapics.db"
    pool_max: Annotated[int, D("Postgres pool: most connections per process", ge=1, le=1000)] = 20
    pool_timeout_s: Annotated[float, D("Postgres pool: seconds to wait for a free connection", gt=0)] = 10.0
    pool_stale_s: Annotated[int, D("Postgres pool: recycle connections idle this long", ge=1)] = 300
    busy_timeout_ms: Annotated[int, D("SQLite: wait this long for the write lock", ge=0)] = 10000
    sqlite_synchronous: Annotated[Literal["full", "normal"], D("SQLite fsync policy; full never loses a commit")] = "full"

    CHECKS = {"url": _sqlite_needs_file}


class QueueConfig(Section):
    backend: Annotated[Literal["sqlite", "redis", "immediate"], D("Huey storage")] = "sqlite"
    sqlite_path: Annotated[str, D("SqliteHuey file, separate from the main database")] = "data/queue.db"
    redis_url: Annotated[str, D("RedisHuey server")] = "redis://127.0.0.1:6379/0"
    workers: Annotated[int, D("thread workers per consumer process", ge=1, le=512)] = 8
    signing_key: Annotated[SecretStr | None, D("secret: HMAC key for task payloads")] = None

    CHECKS = {"redis_url": lambda value: _parsable_url(value, ("redis", "rediss", "unix"))}


class TelegramConfig(Section):
    api_id: Annotated[SecretStr | None, D("secret: my.telegram.org api_id")] = None
    api_hash: Annotated[SecretStr | None, D("secret: my.telegram.org api_hash")] = None
    bot_token: Annotated[SecretStr | None, D("secret: BotFather token")] = None
    bot_username: Annotated[str, D("used in referral links t.me/<bot>?start=ref_<code>")] = "BananaPicsBot"
    session_path: Annotated[str, D("Telethon session file (a credential: mode 600)")] = "data/bot.session"
    send_per_second: Annotated[int, D("delivery: most messages per second over all chats (Telegram allows ~30)",
                                      ge=1, le=30)] = 28
    support_contact: Annotated[str, D("where /support and /paysupport send people")] = "@BananaPicsSupport"
    bot_api_url: Annotated[str, D("Bot API server the CLI and workers use for refunds and reconcile")] = \
        "https://api.telegram.org"
    reconcile_minutes: Annotated[int, D("how often workers reconcile the Stars history; 0 = never",
                                        ge=0, le=1440)] = 30

    CHECKS = {"bot_api_url": lambda value: _secure_url(value)}


class AdminConfig(Section):
    bootstrap_ids: Annotated[list[int], D("Telegram ids that are always admins")] = field(default_factory=list)


class OperatorConfig(Section):
    name: Annotated[str, D("who CLI/TUI actions are recorded as", min_length=1, max_length=64)] = "operator"

    CHECKS = {"name": _safe_name}


class UsersConfig(Section):
    start_balance: Annotated[int, D("tokens granted once to every new user", ge=0)] = 0
    default_language: Annotated[Literal["uz", "ru", "en"], D("language when Telegram's is unknown")] = "uz"


class StorageConfig(Section):
    backend: Annotated[Literal["local", "s3"], D("where images are kept")] = "local"
    path: Annotated[str, D("local storage directory")] = "data/media"
    s3_endpoint: Annotated[str, D("S3-compatible endpoint URL")] = ""
    s3_bucket: Annotated[str, D("S3 bucket")] = ""
    s3_region: Annotated[str, D("S3 region")] = ""
    retention_days: Annotated[int, D("delete images and references older than this; 0 keeps them",
                                     ge=0, le=3650)] = 30
    s3_access_key: Annotated[SecretStr | None, D("secret: S3 access key")] = None
    s3_secret_key: Annotated[SecretStr | None, D("secret: S3 secret key")] = None


class ProvidersConfig(Section):
    gemini_base_url: Annotated[str, D("Gemini API")] = "https://generativelanguage.googleapis.com/v1beta"
    openai_base_url: Annotated[str, D("OpenAI API")] = "https://api.openai.com/v1"
    ark_base_url: Annotated[str, D("BytePlus ModelArk")] = "https://ark.ap-southeast.bytepluses.com/api/v3"
    fal_base_url: Annotated[str, D("fal queue")] = "https://queue.fal.run"
    timeout_s: Annotated[float, D("per provider call; below the job lease", gt=0)] = 90.0
    force_provider: Annotated[Literal["", "local", "gemini", "openai", "seedream", "fal"], D(
        "route every model to this adapter (\"local\": offline demo); empty uses each model's own")] = ""
    local_latency_s: Annotated[float, D("offline `local` provider: seconds per call", ge=0, le=600)] = 0.0
    local_failure_rate: Annotated[float, D("offline `local` provider: share of jobs that fail", ge=0, le=1)] = 0.0
    gemini_api_key: Annotated[SecretStr | None, D("secret: Gemini key")] = None
    openai_api_key: Annotated[SecretStr | None, D("secret: OpenAI key")] = None
    ark_api_key: Annotated[SecretStr | None, D("secret: ModelArk key")] = None
    fal_api_key: Annotated[SecretStr | None, D("secret: fal key")] = None
    breaker_failures: Annotated[int, D(
        "consecutive provider failures after which a model is temporarily unavailable (0: never)", ge=0, le=1000)] = 5
    breaker_cooldown_seconds: Annotated[float, D(
        "how long a model stays unavailable before one job is let through to probe the provider", gt=0, le=86400)] = 60.0

    CHECKS = {name: _secure_url for name in ("gemini_base_url", "openai_base_url", "ark_base_url", "fal_base_url")}


class JobsConfig(Section):
    lease_s: Annotated[float, D("a claimed job's lease; longer than the provider timeout", gt=0)] = 150.0
    deadline_s: Annotated[float, D("a paid job not finished by then is refunded", gt=0)] = 900.0
    requeue_after_s: Annotated[float, D("re-enqueue a job queued this long", gt=0)] = 120.0
    sweep_minutes: Annotated[int, D("how often the sweeper runs", ge=1, le=59)] = 1
    output_dir: Annotated[str, D("where `bananapics generate` writes images by default")] = "data/out"


class LoggingConfig(Section):
    level: Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR"], D("log level")] = "INFO"
    format: Annotated[Literal["text", "json", "auto"], D(
        "text, json (one object a line) or auto: json when stderr is not a terminal")] = "auto"


class MetricsConfig(Section):
    port: Annotated[int, D("Prometheus /metrics port of each bot and worker process; 0 = off", ge=0, le=65535)] = 0
    host: Annotated[str, D("address the metrics server listens on (0.0.0.0 in a container)")] = "127.0.0.1"
    verify_minutes: Annotated[int, D("how often one worker runs the ledger verify for the breaches gauge; 0 = never",
                                     ge=0, le=1440)] = 10


class Config(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    queue: QueueConfig = field(default_factory=QueueConfig)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    admin: AdminConfig = field(default_factory=AdminConfig)
    operator: OperatorConfig = field(default_factory=OperatorConfig)
    users: UsersConfig = field(default_factory=UsersConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    providers: ProvidersConfig = field(default_factory=ProvidersConfig)
    jobs: JobsConfig = field(default_factory=JobsConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)

    source: str = "defaults"  # where the values came from; not a section

    def __post_init__(self) -> None:
        if self.jobs.lease_s <= self.providers.timeout_s:
            raise ValueError(f"[jobs] lease_s ({self.jobs.lease_s:g}) must be longer than [providers] timeout_s "
                             f"({self.providers.timeout_s:g}), or a slow call would be run twice")

    def show(self) -> dict[str, dict[str, Any]]:
        """The effective config as plain data with every secret masked."""
        out: dict[str, dict[str, Any]] = {}
        for name in SECTIONS:
            section = getattr(self, name)
            values: dict[str, Any] = {}
            for key in section.__struct_fields__:
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
            for key in section.__struct_fields__:
                value = getattr(section, key)
                if isinstance(value, SecretStr) and value.get_secret_value():
                    found.append(value.get_secret_value())
        for section, key in SECRET_URLS:
            found.extend(url_passwords(getattr(getattr(self, section), key)))
        return found


SECTIONS: tuple[str, ...] = tuple(k for k in Config.__struct_fields__ if k != "source")
_SECTION_CLASSES: dict[str, type[Section]] = {f.name: f.type for f in msgspec.structs.fields(Config) if f.name != "source"}


def fields_of(section: str) -> dict[str, msgspec.structs.FieldInfo]:
    """The fields of a ``[section]`` by name (type with its ``Meta``, default)."""
    return {f.name: f for f in msgspec.structs.fields(_SECTION_CLASSES[section])}


def _base_type(annotation: Any) -> Any:
    """``Annotated[T, Meta]`` → T."""
    return get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation


def description(section: str, key: str) -> str:
    meta = [m for m in get_args(fields_of(section)[key].type)[1:] if isinstance(m, Meta)]
    return meta[0].description or "" if meta else ""


def is_secret(section: str, key: str) -> bool:
    info = fields_of(section).get(key)
    return info is not None and SecretStr in get_args(_base_type(info.type))


def _file_key(section: str, key: str) -> str | None:
    """The key a ``<key>_file`` entry fills (a secret, or a URL that may carry a password), else None."""
    base = key.removesuffix("_file")
    if base != key and (is_secret(section, base) or (section, base) in SECRET_URLS):
        return base
    return None


def _env_value(section: str, key: str, raw: str) -> Any:
    """Env values are strings; lists accept JSON or comma-separated items."""
    info = fields_of(section).get(key)
    if info is not None and get_origin(_base_type(info.type)) is list:
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


TYPE_NAMES = {"int": "a whole number", "float": "a number", "str": "text", "bool": "true or false",
              "array": "a list", "object": "a table", "null": "nothing"}
_ERROR = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)


def _reason(section: str | None, key: str | None, msg: str) -> tuple[str | None, str]:
    """msgspec's error text in the words of this config: (the key it is about, the reason)."""
    if m := re.match(r"Object contains unknown field `(.+)`", msg):
        return m.group(1), "unknown key"
    if m := re.match(r"Expected `(\w+)`, got `(\w+)`", msg):
        want, got = (TYPE_NAMES.get(t, t) for t in m.groups())
        return key, f"must be {want}, not {got}"
    if m := re.match(r"Expected `\w+` (of length )?([<>]=?) (\S+)", msg):
        length, op, bound = m.groups()
        bound = bound.removesuffix(".0")
        if length:
            return key, "must not be empty" if (op, bound) == (">=", "1") else \
                f"must be {'at least' if op == '>=' else 'at most'} {bound} characters"
        words = {">=": "at least", ">": "greater than", "<=": "at most", "<": "less than"}[op]
        return key, f"must be {words} {bound}"
    if msg.startswith("Invalid enum value") and section and key:
        choices = get_args(_base_type(fields_of(section)[key].type))
        return key, "must be one of " + ", ".join(repr(c) if c == "" else str(c) for c in choices)
    if section and key is None and ": " in msg:  # a CHECKS rule: "<field>: <reason>"
        name, _, reason = msg.partition(": ")
        if name in fields_of(section):
            return name, reason
    return key, msg


def _describe(exc: msgspec.ValidationError, origin: str, origins: Origins) -> str:
    m = _ERROR.match(str(exc))
    msg, path = m.group("msg"), [p for p in (m.group("path") or "").split(".") if p]
    path = [p.partition("[")[0] for p in path]  # a list item: the key is enough
    if not path:  # a cross-section rule
        return f"{origin}: {msg}"
    section = path[0] if path[0] in SECTIONS else None
    key, reason = _reason(section, path[1] if len(path) > 1 else None, msg)
    if key is None:
        return f"{origin}: [{path[0]}]: {reason}"
    origin = origins.get((path[0], key), origin)
    return f"{origin}: [{path[0]}] {key}: {reason}"


def _secret(kind: type, value: Any) -> Any:
    if kind is SecretStr and isinstance(value, str):
        return SecretStr(value)
    raise NotImplementedError


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
        config = msgspec.convert(data, Config, strict=False, dec_hook=_secret)
    except msgspec.ValidationError as exc:
        raise ConfigError(_describe(exc, origin, origins)) from None
    config.source = origin
    return config
