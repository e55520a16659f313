"""deploy/: what an operator copies must be consistent with the code. The compose file, the systemd
units and the Procfile start real CLI commands (one bot, workers with exactly one running the
periodic tasks), the production config and env.example load through the real config loader, the
connection budget fits Postgres' max_connections, and every metric the alert rules and the Grafana
dashboard query is one the processes export."""

from __future__ import annotations

import configparser
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY
from typer.testing import CliRunner

import bananapics.metrics  # noqa: F401 - registers the bananapics_* families
from bananapics.cli.main import app
from bananapics.config import Config, fields_of, load_config

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
runner = CliRunner()


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def env_example() -> dict[str, str]:
    pairs = {}
    for line in (DEPLOY / "env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def production_environ() -> dict[str, str]:
    """env.example with its blanks filled the way an operator would."""
    env = {k: v for k, v in env_example().items() if k.startswith("BANANAPICS_")}
    env.update({"BANANAPICS_TELEGRAM__BOT_TOKEN": "123456789:" + "A" * 35, "BANANAPICS_TELEGRAM__API_ID": "12345",
                "BANANAPICS_TELEGRAM__API_HASH": "0" * 32, "BANANAPICS_QUEUE__SIGNING_KEY": "x" * 32})
    return {k: v for k, v in env.items() if v}


def app_command(argv: list[str]) -> list[str]:
    assert argv[0].endswith("bananapics"), argv
    return argv[1:]


def assert_real_command(args: list[str]) -> None:
    args = [a for a in args if not a.startswith("$")]  # systemd variables (e.g. $BANANAPICS_WORKER_PERIODIC)
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, f"`bananapics {' '.join(args)}` is not a command: {result.output}"


def app_services() -> dict[str, dict]:
    return {name: s for name, s in compose()["services"].items() if s.get("image", "").startswith("bananapics")}


def test_compose_runs_one_bot_and_workers_of_which_one_is_periodic():
    services = compose()["services"]
    assert {"bot", "worker-main", "worker", "postgres", "redis", "minio", "migrate"} <= set(services)
    apps = app_services()
    commands = {name: s["command"] for name, s in apps.items()}
    for argv in commands.values():
        assert_real_command(app_command(argv))
    assert commands["bot"] == ["bananapics", "run", "bot"]
    assert apps["bot"]["deploy"]["replicas"] == 1  # one bot process per token and session file
    assert commands["migrate"] == ["bananapics", "db", "upgrade"]
    workers = {name: argv for name, argv in commands.items() if argv[1] == "worker"}
    periodic = [name for name, argv in workers.items() if "--no-periodic" not in argv]
    assert periodic == ["worker-main"] and apps["worker-main"]["deploy"]["replicas"] == 1
    assert apps["worker"]["deploy"]["replicas"] >= 1
    for name in ("bot", "worker-main", "worker"):  # app processes start after the migrations
        assert apps[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        # SIGTERM lets jobs finish up to the lease: the grace period must outlast it
    lease = Config().jobs.lease_s
    assert all(int(apps[n]["stop_grace_period"].rstrip("s")) > lease for n in ("worker-main", "worker"))
    assert "--requirepass" in services["redis"]["command"]


def test_connection_budget_fits_postgres_max_connections():
    services = compose()["services"]
    argv = services["postgres"]["command"]
    max_connections = int(next(a.split("=", 1)[1] for a in argv if a.startswith("max_connections=")))
    config = load_config(DEPLOY / "config.production.toml", environ=production_environ())
    apps = app_services()
    processes = sum(apps[n]["deploy"]["replicas"] for n in ("bot", "worker-main", "worker"))
    reserve = 20  # operators' CLI, backups, migrations, psql
    assert processes * config.database.pool_max + reserve <= max_connections
    # the figure the config's comment promises: 1 bot + 5 workers
    assert (1 + 5) * config.database.pool_max + reserve <= max_connections


def test_production_config_and_env_example_load_through_the_real_loader():
    config = load_config(DEPLOY / "config.production.toml", environ=production_environ())
    assert config.database.url.startswith("postgresql://") and ":CHANGE-ME@" in config.database.url  # from env
    assert config.queue.backend == "redis" and config.storage.backend == "s3"
    assert config.metrics.port > 0 and config.metrics.host == "0.0.0.0"
    assert config.logging.format == "json"
    assert config.telegram.session_path.startswith("/data/")
    # no secret in the file itself: it loads without any environment (and without a password)
    bare = load_config(DEPLOY / "config.production.toml", environ={})
    assert bare.telegram.bot_token is None and bare.queue.signing_key is None
    # every BANANAPICS_ name in env.example is a real key
    for name in env_example():
        if name.startswith("BANANAPICS_"):
            section, _, key = name[len("BANANAPICS_"):].lower().partition("__")
            assert key.removesuffix("_file") in fields_of(section), name
    # the Dockerfile uses this config and copies every package directory
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "deploy/config.production.toml" in dockerfile
    for package_dir in ("bananapics", "models", "tasks", "cli", "tui"):
        assert f"COPY {package_dir} ./{package_dir}" in dockerfile


def test_systemd_units_and_procfile_start_real_commands():
    units = {p.name: p for p in (DEPLOY / "systemd").glob("*.service")}
    assert set(units) == {"bananapics-bot.service", "bananapics-worker@.service", "bananapics-migrate.service"}
    starts = {}
    for name, path in units.items():
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str
        parser.read_string(path.read_text())
        service = parser["Service"]
        starts[name] = shlex.split(service["ExecStart"])
        assert_real_command(app_command(starts[name]))
        if name != "bananapics-migrate.service":
            assert service["UMask"] == "0077" and service["Restart"] == "always"
            assert "bananapics-migrate.service" in parser["Unit"]["After"]
    assert starts["bananapics-bot.service"][1:] == ["run", "bot"]
    worker = configparser.ConfigParser(strict=False, interpolation=None)
    worker.read_string(units["bananapics-worker@.service"].read_text())
    assert int(worker["Service"]["TimeoutStopSec"]) > Config().jobs.lease_s
    procfile = dict(line.split(": ", 1) for line in (DEPLOY / "Procfile").read_text().splitlines() if line.strip())
    assert procfile["release"] == "bananapics db upgrade" and procfile["bot"] == "bananapics run bot"
    for command in procfile.values():
        assert_real_command(app_command(shlex.split(command)))
    assert sum(1 for c in procfile.values() if c.startswith("bananapics worker") and "--no-periodic" not in c) == 1


def exported_names() -> set[str]:
    names = set()
    for family in REGISTRY.collect():
        suffixes = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum", "_created"),
                    "gauge": ("",)}.get(family.type, ("",))
        names |= {family.name + s for s in suffixes}
    return names


METRIC = re.compile(r"\bbananapics_[a-z_]+\b")


def test_alert_rules_query_exported_metrics_and_cover_the_four_alarms():
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    alerts = {r["alert"]: r for group in rules["groups"] for r in group["rules"]}
    assert {"LedgerVerifyBreaches", "OutboxBacklogGrowing", "ProviderErroring", "NoWorkerHeartbeat"} <= set(alerts)
    assert "bananapics_ledger_verify_breaches" in alerts["LedgerVerifyBreaches"]["expr"]
    assert "> 0" in alerts["LedgerVerifyBreaches"]["expr"]
    known = exported_names()
    for name, rule in alerts.items():
        for metric in METRIC.findall(rule["expr"]):
            assert metric in known, f"alert {name} queries {metric}, which nothing exports"
        assert rule["annotations"]["summary"]
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    assert scrape["rule_files"] == ["/etc/prometheus/alerts.yml"]


def test_grafana_dashboard_queries_exported_metrics():
    dashboard = json.loads((DEPLOY / "grafana" / "bananapics.json").read_text())
    known = exported_names()
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(dashboard["panels"]) >= 12
    used = {m for e in exprs for m in METRIC.findall(e)}
    assert used <= known, used - known
    for family in ("bananapics_updates_total", "bananapics_handler_seconds_bucket", "bananapics_outbox_backlog",
                   "bananapics_ledger_verify_breaches", "bananapics_provider_errors_total",
                   "bananapics_flood_waits_total", "bananapics_stars_received_total"):
        assert family in used


@pytest.mark.parametrize("path", sorted(p.relative_to(ROOT).as_posix() for p in DEPLOY.rglob("*") if p.is_file()))
def test_no_secret_in_deploy_files(path):
    text = (ROOT / path).read_text()
    assert not re.search(r"\b\d{6,}:[A-Za-z0-9_-]{30,}\b", text)  # a bot token
    assert not re.search(r"\bsk-[A-Za-z0-9_-]{16,}", text)  # an OpenAI key
    assert not re.search(r"AIza[0-9A-Za-z_-]{20,}", text)  # a Google key
