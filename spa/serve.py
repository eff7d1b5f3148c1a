"""Serve the single-page app (spa/) on its own origin, with its config from the environment.

    python spa/serve.py [--port 5173]      # `make spa` runs this with the dev stack's settings

Standard library only: the app is static files plus /config.json, which is built here from
COGNITO_DOMAIN (hosted UI and token endpoint), COGNITO_SPA_CLIENT_ID (the public client) and
SPA_API_ORIGIN (the Django app, default http://localhost:8000), so nothing is hard-coded in the
JavaScript. Pages carry a Content-Security-Policy that lets scripts load only from this origin and
connect only to the hosted UI and the API.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
# Only these are served (never serve.py or the README); "/" (with ?code=&state=) is the app.
FILES = {"/": "index.html", "/index.html": "index.html", "/app.js": "app.js", "/auth.js": "auth.js",
         "/api.js": "api.js", "/style.css": "style.css"}  # fmt: skip
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css"}


def origin(url: str) -> str:
    """scheme://host[:port] of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def app_config(port: int, environ: dict[str, str]) -> dict[str, str]:
    """What the app needs to know, from the running stack's environment (.run/dev.env)."""
    missing = [k for k in ("COGNITO_DOMAIN", "COGNITO_SPA_CLIENT_ID") if not environ.get(k)]
    if missing:
        raise SystemExit(f"spa: {', '.join(missing)} not set (start the stack: make services, or make dev)")
    domain = environ["COGNITO_DOMAIN"].rstrip("/")
    return {
        "clientId": environ["COGNITO_SPA_CLIENT_ID"],
        "authorizeEndpoint": f"{domain}/oauth2/authorize",
        "tokenEndpoint": f"{domain}/oauth2/token",
        "revokeEndpoint": f"{domain}/oauth2/revoke",
        "logoutEndpoint": f"{domain}/logout",
        "apiOrigin": environ.get("SPA_API_ORIGIN", "http://localhost:8000").rstrip("/"),
        "redirectUri": f"http://localhost:{port}/",
        "scope": "openid email profile aws.cognito.signin.user.admin",
    }


def handler_for(config: dict[str, str]) -> type[SimpleHTTPRequestHandler]:
    """A request handler serving FILES and config."""
    connect = " ".join(sorted({"'self'", origin(config["tokenEndpoint"]), config["apiOrigin"]}))
    csp = (
        f"default-src 'none'; script-src 'self'; style-src 'self'; connect-src {connect}; "
        "img-src 'self' data: http: https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    body = json.dumps(config).encode()

    class Handler(SimpleHTTPRequestHandler):
        def end_headers(self) -> None:
            self.send_header("Content-Security-Policy", csp)
            self.send_header("Referrer-Policy", "no-referrer")  # the ?code= must not leak
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path = urlsplit(self.path).path
            if path == "/config.json":
                return self._send(body, "application/json")
            name = FILES.get(path)
            if name is None:
                return self.send_error(HTTPStatus.NOT_FOUND)
            file = HERE / name
            return self._send(file.read_bytes(), TYPES[file.suffix])

        def do_HEAD(self) -> None:  # noqa: N802
            self.send_error(HTTPStatus.METHOD_NOT_ALLOWED)

        def _send(self, data: bytes, content_type: str) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5173)
    args = parser.parse_args(argv)
    config = app_config(args.port, dict(os.environ))
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler_for(config))
    print(
        f"spa: http://localhost:{args.port}/ (client {config['clientId']}, API {config['apiOrigin']})",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
