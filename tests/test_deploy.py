"""The deployment files under deploy/ and the Dockerfile, read as Docker Compose, Caddy,
coturn and systemd would: the services, their ports and health checks, the one migration
before any server, the commands they run (through the real command-line parser), and that
every PHONGHOP_* variable they set is a setting the code reads."""

from __future__ import annotations

import ast
import ipaddress
import re
import shlex
import shutil
import subprocess
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
import yaml

from server.cli import cmd_backup, cmd_bridge, cmd_db_upgrade, cmd_serve, parser

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SYSTEMD = DEPLOY / "systemd"
PHONGHOP = ("migrate", "server1", "server2", "bridge")
LONG_RUNNING = ("postgres", "redis", "server1", "server2", "bridge", "caddy", "coturn")
NAME = re.compile(r"PHONGHOP_[A-Z0-9_]+")
PROGRAM = "/opt/phonghop/venv/bin/phonghop"  # where docs/DEPLOY.md installs it


def known_settings() -> set[str]:
    """PHONGHOP_* names the code reads: the _env* calls of server/settings.py, and every
    string in server/ that is such a name alone (PHONGHOP_SEAL_PASSWORD, the recorder's
    environment)."""
    names = set()
    for path in (ROOT / "server").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("_env", "_env_int", "_env_list")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.add(f"PHONGHOP_{node.args[0].value}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if NAME.fullmatch(node.value):
                    names.add(node.value)
    return names


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def unit(name: str) -> dict[str, list[tuple[str, str]]]:
    """A systemd unit file as {section: [(key, value), ...]}; keys may repeat."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for number, raw in enumerate((SYSTEMD / name).read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        key, equals, value = line.partition("=")
        assert current is not None and equals, f"{name}:{number}: {raw!r}"
        current.append((key.strip(), value.strip()))
    return sections


def values(sections: dict[str, list[tuple[str, str]]], section: str, key: str) -> list[str]:
    return [value for name, value in sections.get(section, []) if name == key]


def one(sections: dict[str, list[tuple[str, str]]], section: str, key: str) -> str:
    (value,) = values(sections, section, key)
    return value


def unit_environment(sections: dict[str, list[tuple[str, str]]]) -> dict[str, str]:
    pairs = [item for line in values(sections, "Service", "Environment") for item in line.split()]
    return dict(pair.split("=", 1) for pair in pairs)


def phonghop_command(argv: list[str]) -> Any:
    """The function `phonghop ARGV...` runs, by the real parser (an unknown one exits)."""
    assert argv[0] in ("phonghop", PROGRAM), argv
    return parser().parse_args(argv[1:]).run


def exec_start(sections: dict[str, list[tuple[str, str]]]) -> list[str]:
    argv = shlex.split(one(sections, "Service", "ExecStart"))
    if argv[:2] == ["/bin/sh", "-c"]:  # the backup names its archive after the day
        argv = shlex.split(argv[2].replace("$(date +%%F)", "DAY"))
        assert argv[0] == "exec"
        argv = argv[1:]
    return argv


def test_known_settings_are_read_from_the_code() -> None:
    known = known_settings()
    assert {"PHONGHOP_DATA_DIR", "PHONGHOP_REDIS_URL", "PHONGHOP_SEAL_PASSWORD"} <= known
    assert "PHONGHOP_NOT_A_SETTING" not in known and "PHONGHOP_" not in known


def test_compose_has_every_service_and_a_health_check_on_each_long_running_one() -> None:
    found = services()
    assert set(found) == set(LONG_RUNNING) | {"migrate"}
    for name in LONG_RUNNING:
        check = found[name].get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
        assert found[name]["restart"] == "unless-stopped", name
    for name in ("server1", "server2"):
        assert "/healthz" in found[name]["healthcheck"]["test"][-1]
        assert ":8000/" in found[name]["healthcheck"]["test"][-1]
    assert ":8100/healthz" in found["bridge"]["healthcheck"]["test"][-1]


def test_the_database_is_migrated_once_before_any_server_or_the_bridge_starts() -> None:
    found = services()
    migrate = found["migrate"]
    assert phonghop_command(migrate["command"]) is cmd_db_upgrade
    assert migrate["restart"] == "no" and migrate["healthcheck"] == {"disable": True}
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    migrating = [name for name in found if "db" in found[name].get("command", [])]
    assert migrating == ["migrate"]
    for name in ("server1", "server2", "bridge"):
        wait = found[name]["depends_on"]
        assert wait["migrate"] == {"condition": "service_completed_successfully"}, name
        assert wait["postgres"] == wait["redis"] == {"condition": "service_healthy"}, name


def test_the_servers_share_postgres_redis_the_keys_and_the_data_volume() -> None:
    found = services()
    env = {name: found[name]["environment"] for name in PHONGHOP}
    for name in PHONGHOP:
        assert env[name]["PHONGHOP_DATABASE_URL"].startswith("postgresql://")
        assert env[name]["PHONGHOP_REDIS_URL"] == "redis://redis:6379/0"
        assert found[name]["volumes"] == ["data:/data"]
        assert env[name]["PHONGHOP_DATA_DIR"] == "/data"
        assert found[name]["image"] == found["server1"]["image"]
        for key in ("PHONGHOP_SECRET_KEY", "PHONGHOP_RECORDER_KEY", "PHONGHOP_BRIDGE_URLS"):
            assert env[name][key] == env["server1"][key], (name, key)
    for name in ("server1", "server2"):
        assert "command" not in found[name]  # the image's CMD: phonghop serve


def test_the_bridge_listens_where_the_servers_look_for_it() -> None:
    found = services()
    command = found["bridge"]["command"]
    assert phonghop_command(command) is cmd_bridge
    args = parser().parse_args(command[1:])
    assert args.host == "0.0.0.0"
    assert found["server1"]["environment"]["PHONGHOP_BRIDGE_URLS"] == f"http://bridge:{args.port}"


def test_only_caddy_and_coturn_face_the_network() -> None:
    found = services()
    assert found["caddy"]["ports"] == ["80:80", "443:443", "443:443/udp"]
    assert found["coturn"]["network_mode"] == "host"  # TURN's UDP relay range
    for name in set(found) - {"caddy"}:
        assert "ports" not in found[name], f"{name} publishes a port"


def test_fixed_addresses_agree_with_the_proxy_trust_and_the_turn_relay() -> None:
    found = services()
    network = compose()["networks"]["default"]["ipam"]["config"][0]
    subnet, dynamic = (ipaddress.ip_network(network[key]) for key in ("subnet", "ip_range"))
    caddy = found["caddy"]["networks"]["default"]["ipv4_address"]
    bridge = found["bridge"]["networks"]["default"]["ipv4_address"]
    for address in (caddy, bridge):
        assert ipaddress.ip_address(address) in subnet
        assert ipaddress.ip_address(address) not in dynamic  # no other container takes it
    for name in PHONGHOP:
        assert found[name]["environment"]["FORWARDED_ALLOW_IPS"] == caddy
    turn = (DEPLOY / "turnserver.conf").read_text(encoding="utf-8").splitlines()
    assert f"allowed-peer-ip={bridge}" in turn
    assert "use-auth-secret" in turn


def test_no_secret_is_written_in_the_compose_file() -> None:
    found = services()
    secret = re.compile(r"SECRET|PASSWORD|_KEY|TOKEN")
    for name, service in found.items():
        for key, value in (service.get("environment") or {}).items():
            if secret.search(key):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]*\}", value), (name, key, value)
    url = found["server1"]["environment"]["PHONGHOP_DATABASE_URL"]
    assert url.startswith("postgresql://phonghop:${POSTGRES_PASSWORD:?")
    coturn = found["coturn"]["command"]
    assert "--static-auth-secret=${PHONGHOP_TURN_SECRET:?set it in deploy/.env}" in coturn
    assert "CHANGE-ME" not in (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    turn = (DEPLOY / "turnserver.conf").read_text(encoding="utf-8").splitlines()
    assert not [line for line in turn if line.startswith("static-auth-secret")]


def test_caddy_balances_both_servers_without_sticky_sessions() -> None:
    caddyfile = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    lines = [line.split("#")[0].strip() for line in caddyfile.splitlines()]
    (proxy,) = [line for line in lines if line.startswith("reverse_proxy")]
    targets = proxy.removesuffix("{").split()[1:]
    assert targets == ["server1:8000", "server2:8000"]
    policy = [line.split()[1] for line in lines if line.startswith("lb_policy")]
    assert policy == ["least_conn"]  # not cookie, ip_hash or client_ip: any server will do
    assert "health_uri /healthz" in lines
    (site,) = [line for line in lines if line.endswith("{") and not line.startswith(("r", "q"))]
    assert site == "{$DOMAIN} {"
    assert "DOMAIN" in services()["caddy"]["environment"]
    upload = services()["server1"]["environment"]["PHONGHOP_MAX_UPLOAD_MB"]
    assert f"max_size {upload}MiB" in lines


def test_every_phonghop_variable_they_set_is_a_setting() -> None:
    known = known_settings()
    found: dict[str, str] = {}
    for service in services().values():
        for key in service.get("environment") or {}:
            found.setdefault(key, "compose.yaml environment")
    texts = {
        path.relative_to(ROOT): path.read_text(encoding="utf-8")
        for path in [DEPLOY / "compose.yaml", DEPLOY / "Caddyfile", *DEPLOY.glob("*.example")]
        + sorted(SYSTEMD.iterdir())
    }
    for path, text in texts.items():
        for name in NAME.findall(text):
            found.setdefault(name, str(path))
    assert len([name for name in found if name.startswith("PHONGHOP_")]) > 10
    unknown = {name: where for name, where in found.items() if NAME.fullmatch(name)}
    unknown = {name: where for name, where in unknown.items() if name not in known}
    assert unknown == {}


def test_systemd_units_run_real_commands_with_hardening() -> None:
    expected = {
        "phonghop.service": cmd_serve,
        "phonghop-bridge.service": cmd_bridge,
        "phonghop-backup.service": cmd_backup,
    }
    for name, command in expected.items():
        sections = unit(name)
        assert one(sections, "Unit", "Description")
        assert phonghop_command(exec_start(sections)) is command, name
        assert one(sections, "Service", "User") == "phonghop"
        assert one(sections, "Service", "EnvironmentFile") == "/etc/phonghop/phonghop.env"
        for key, value in (
            ("NoNewPrivileges", "yes"),
            ("ProtectSystem", "strict"),
            ("ProtectHome", "yes"),
            ("PrivateTmp", "yes"),
        ):
            assert one(sections, "Service", key) == value, (name, key)
        writable = one(sections, "Service", "ReadWritePaths").split()
        data_dir = unit_environment(sections)["PHONGHOP_DATA_DIR"]
        assert data_dir in writable, name
        state = one(sections, "Service", "StateDirectory").split()
        assert "/var/lib/" + state[0] == data_dir, name
    for name in ("phonghop.service", "phonghop-bridge.service"):
        sections = unit(name)
        assert one(sections, "Service", "Restart") == "on-failure"
        assert one(sections, "Install", "WantedBy") == "multi-user.target"
    backup = unit("phonghop-backup.service")
    assert one(backup, "Service", "Type") == "oneshot"
    archive = Path(exec_start(backup)[2])
    assert str(archive.parent) in one(backup, "Service", "ReadWritePaths").split()
    assert archive.parent.name in one(backup, "Service", "StateDirectory").split()


def test_the_backup_timer_starts_the_backup_every_night() -> None:
    timer = unit("phonghop-backup.timer")
    assert one(timer, "Timer", "OnCalendar") == "*-*-* 02:30"
    assert one(timer, "Timer", "Persistent") == "true"
    assert values(timer, "Timer", "Unit") in ([], ["phonghop-backup.service"])
    assert (SYSTEMD / "phonghop-backup.service").exists()
    assert one(timer, "Install", "WantedBy") == "timers.target"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="no systemd-analyze here")
def test_systemd_itself_accepts_the_units(tmp_path: Path) -> None:
    # The program is not installed here: point at one that is, so only the units are judged.
    for path in SYSTEMD.iterdir():
        text = path.read_text(encoding="utf-8").replace(PROGRAM, "/bin/true")
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    units = sorted(str(path) for path in tmp_path.iterdir())
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *units], capture_output=True, text=True
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_the_image_installs_from_the_lock_and_carries_libreoffice_and_an_init() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    commands = re.sub(r"\\\n\s*", " ", dockerfile)
    assert re.search(r"pip download --require-hashes .* -r requirements\.lock", commands)
    assert re.search(r"pip install .*--require-hashes -r /tmp/requirements\.lock", commands)
    assert re.search(r"pip install .*--no-deps /wheels/phonghop-\*\.whl", commands)
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert not [rule for rule in ignored if fnmatch("requirements.lock", rule)]
    assert [rule for rule in ignored if fnmatch("requirements-test.lock", rule)]
    assert (ROOT / "requirements.lock").exists()
    installed = re.search(r"apt-get install -y --no-install-recommends ([^&]+)", commands)
    assert installed is not None
    packages = installed.group(1).split()
    assert {"tini", "libreoffice-writer-nogui", "fonts-dejavu-core"} <= set(packages)
    assert 'ENTRYPOINT ["/usr/bin/tini", "--"]' in dockerfile.splitlines()
    assert 'CMD ["phonghop", "serve"]' in dockerfile.splitlines()
    assert "/healthz" in dockerfile
