"""Command line: serve (default), rotate-key, reset."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from localcloud.config import DEFAULT_CONFIG, Config, ConfigError
from localcloud.files import private_dir, write_private
from localcloud.s3.policy import PolicyError
from localcloud.template.loader import TemplateError

if TYPE_CHECKING:
    from localcloud.server import LocalCloud

DEFAULT_DATA_DIR = Path(".localcloud")
DEFAULT_PORT = 9229
# Written to app.env (0600) only, never printed: the console is often a log file others can read.
SECRET_KEYS = frozenset({"COGNITO_CLIENT_SECRET", "AWS_SECRET_ACCESS_KEY"})


def is_loopback(host: str) -> bool:
    """Whether host names only this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def app_values(server: LocalCloud, host: str, port: int, s3_port: int) -> dict[str, str]:
    """Everything the app needs to talk to this stack, as environment variables."""
    # A wildcard bind is reached through loopback from this machine.
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    base = f"http://{shown}:{port}"
    return {
        "COGNITO_REGION": server.pool.region,
        "COGNITO_USER_POOL_ID": server.pool.id,
        "COGNITO_CLIENT_ID": server.client.id,
        "COGNITO_CLIENT_SECRET": server.client.secret,
        # The public client (no secret, PKCE) of single-page apps such as spa/; empty without one.
        "COGNITO_SPA_CLIENT_ID": server.spa_client.id if server.spa_client else "",
        "COGNITO_DOMAIN": base,
        "COGNITO_IDP_URL": base,
        "COGNITO_ISSUER": server.pool.issuer,
        # boto3's endpoint for cognito-idp and cognito-identity; S3 has its own origin, as on AWS.
        "AWS_ENDPOINT_URL": base,
        "AWS_S3_ENDPOINT_URL": f"http://{shown}:{s3_port}",
        "AWS_DEFAULT_REGION": server.pool.region,
        # The operator (localcloud/iam.py): random per data dir; signs admin calls, full S3 access.
        "AWS_ACCESS_KEY_ID": server.operator.access_key_id,
        "AWS_SECRET_ACCESS_KEY": server.operator.secret_access_key,
        "COGNITO_IDENTITY_POOL_ID": server.identity.id,
        "AWS_STORAGE_BUCKET_NAME": server.bucket or "",
    }


def write_app_env(data_dir: Path, values: dict[str, str]) -> Path:
    """Write KEY=VALUE lines (no quoting needed: values have no spaces or specials), mode 0600."""
    path = data_dir / "app.env"
    lines = ["# Written by `python -m localcloud` at start-up. Development only."]
    lines += [f"{key}={value}" for key, value in values.items()]
    write_private(path, "\n".join(lines) + "\n")
    return path


def serve(args: argparse.Namespace) -> int:
    """Start the server and block."""
    if not is_loopback(args.host) and not args.allow_non_loopback:
        print(
            f"localcloud: refusing to bind to non-loopback address {args.host!r}: it is a development "
            "tool with well-known demo credentials. Pass --allow-non-loopback to override.",
            file=sys.stderr,
        )
        return 2
    started = time.monotonic()
    # Diagnostics (refused calls, internal errors) go through logging; the lines below are output.
    logging.basicConfig(level=logging.INFO, format="[%(name)s] %(levelname)s %(message)s")
    from werkzeug.serving import make_server

    from localcloud.hosts import HostKeepingHandler, guard
    from localcloud.server import LocalCloud
    from localcloud.store import StateError

    data_dir = Path(args.data_dir)
    try:
        app = LocalCloud(_config(args), data_dir, latency_ms=args.latency_ms, fault_switch=args.faults)
    except (StateError, TemplateError, PolicyError, ConfigError) as exc:
        print(f"localcloud: {exc}", file=sys.stderr)
        return 1
    s3_port = args.s3_port if args.s3_port is not None else (args.port + 1 if args.port else 0)
    try:
        # Both origins answer only to their own names (no DNS rebinding: localcloud/hosts.py).
        names = [args.host, *args.allowed_host]
        cognito_app, s3_app = guard(app, names), guard(app.s3, names)
        server = make_server(
            args.host, args.port, cognito_app, threaded=True, request_handler=HostKeepingHandler
        )
        s3_server = make_server(args.host, s3_port, s3_app, threaded=True, request_handler=HostKeepingHandler)
    except OSError as exc:
        print(f"localcloud: cannot listen on {args.host} ({exc})", file=sys.stderr)
        return 1
    port = server.socket.getsockname()[1]
    s3_port = s3_server.socket.getsockname()[1]
    values = app_values(app, args.host, port, s3_port)
    env_path = write_app_env(data_dir, values)
    for key, value in values.items():
        print(f"  {key}={'(secret: see app.env)' if key in SECRET_KEYS else value}")
    print(f"  app.env: {env_path} (every value, the secrets too; mode 0600)")
    for spec in app.config.users:
        print(f"  demo user: {spec['username']} / {spec['password']}")
    print(f"  outbox: {values['COGNITO_DOMAIN']}/_outbox")
    print(f"  identity pool: {app.identity.id}; bucket: {app.bucket}")
    if args.faults:
        print(f"  fault switch: POST {values['COGNITO_DOMAIN']}/_faults (operator-signed; tests only)")
    if args.latency_ms:
        print(f"  latency: every Cognito request waits {args.latency_ms} ms")
    s3_thread = threading.Thread(target=s3_server.serve_forever, name="localcloud-s3", daemon=True)
    s3_thread.start()
    print(
        f"localcloud ready on {values['COGNITO_DOMAIN']} (S3 on {values['AWS_S3_ENDPOINT_URL']}; "
        f"user pool {app.pool.id}, {time.monotonic() - started:.1f}s) — development only",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        s3_server.shutdown()
        s3_server.server_close()
        server.server_close()
    return 0


def _config(args: argparse.Namespace) -> Config:
    """The seed: --template (with --parameter values) or --config (default localcloud/config.json)."""
    if args.template is None:
        return Config.load(Path(args.config or DEFAULT_CONFIG))
    parameters = dict(item.split("=", 1) for item in args.parameter)
    return Config.load_template(Path(args.template), parameters)


def _parameter(value: str) -> str:
    """Name=value for argparse."""
    if "=" not in value:
        raise argparse.ArgumentTypeError("expected Name=value")
    return value


def rotate(args: argparse.Namespace) -> int:
    """Make a new signing key current (a running server picks it up from the file)."""
    from localcloud.keys import rotate_key

    data_dir = Path(args.data_dir)
    private_dir(data_dir)
    key = rotate_key(data_dir)
    print(f"localcloud: new signing key {key.kid}")
    return 0


def reset(args: argparse.Namespace) -> int:
    """Wipe the data dir."""
    from localcloud.store import reset as wipe

    wipe(Path(args.data_dir))
    print(f"localcloud: removed {args.data_dir}")
    return 0


def _non_negative(value: str) -> int:
    """An integer >= 0 for argparse."""
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return number


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run a command."""
    parser = argparse.ArgumentParser(prog="python -m localcloud", description=__doc__)
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "rotate-key", "reset"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="Cognito origin (0: any free port)")
    parser.add_argument(
        "--s3-port", type=int, default=None, help="the S3 origin (default: --port + 1; 0: any free port)"
    )
    parser.add_argument(
        "--latency-ms",
        type=_non_negative,
        default=0,
        help="delay every request to the Cognito origin by this many ms (a real network round trip)",
    )
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    seed = parser.add_mutually_exclusive_group()
    seed.add_argument("--config", default=None, help=f"seed file (default {DEFAULT_CONFIG})")
    seed.add_argument(
        "--template", default=None, help="seed from a CloudFormation template instead (infra/template.yaml)"
    )
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        type=_parameter,
        metavar="NAME=VALUE",
        help="a template parameter (repeatable); others take their Default",
    )
    parser.add_argument("--allow-non-loopback", action="store_true")
    parser.add_argument(
        "--faults",
        action="store_true",
        help="serve the fault switch, POST /_faults (operator-signed; for tests: localcloud/faults.py)",
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests whose Host is NAME:<port> (repeatable; loopback names and --host always)",
    )
    args = parser.parse_args(argv)
    return {"serve": serve, "rotate-key": rotate, "reset": reset}[args.command](args)
