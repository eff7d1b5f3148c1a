"""Only requests addressed to this server by a loopback name (or a name it was told) are answered.

DNS rebinding: a page on ``attacker.example`` whose name is re-pointed to 127.0.0.1 is same-origin
with whatever answers there, so it could read the hosted UI's CSRF tokens and the outbox, and act as
the user. Its requests still carry ``Host: attacker.example:<port>``; refusing every Host that is
not one of this server's own names, before any routing, closes that. Both origins are guarded.

An absolute-form request target (``GET http://127.0.0.1:<port>/x HTTP/1.1``) makes werkzeug replace
``HTTP_HOST`` with the target's host, so the Host header actually sent is also kept (``RAW_HOST``,
by ``HostKeepingHandler``) and both must be this server's names.

Allowed: ``127.0.0.1:<port>``, ``localhost:<port>``, ``[::1]:<port>``, the bound host with its port
(``--host``, so ``--allow-non-loopback`` keeps working for the address it binds) and every
``--allowed-host`` name with its port; each also without the port when the port is 80.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.wrappers import Response

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
# On every refusal: nothing in it may run or be sniffed as a page.
_HEADERS = {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"}


# The environ key holding the Host header(s) as received, joined with "," ("" when none was sent).
RAW_HOST = "localcloud.host_header"


class HostKeepingHandler(MotoRequestHandler):
    """moto's request handler, also keeping the Host header as sent (werkzeug may overwrite HTTP_HOST)."""

    def make_environ(self) -> dict[str, Any]:
        """werkzeug's environ plus RAW_HOST."""
        environ = super().make_environ()
        environ[RAW_HOST] = ",".join(self.headers.get_all("Host") or ())
        return environ


def _name(host: str) -> str:
    """A host name as it appears in a Host header (IPv6 literals in brackets), lower case."""
    host = host.strip().lower()
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def allowed_hosts(bound: str, port: int | str, extra: Iterable[str] = ()) -> frozenset[str]:
    """Every Host header value a request to this server may carry."""
    names = {*LOOPBACK_NAMES, _name(bound), *(_name(name) for name in extra)}
    hosts = {f"{name}:{port}" for name in names}
    if str(port) == "80":
        hosts |= names
    return frozenset(hosts)


def guard(app: Callable[..., Any], extra: Iterable[str] = ()) -> Callable[..., Any]:
    """The WSGI app behind a Host check (the bound name and port come from the server's environ)."""
    extra = tuple(extra)

    def guarded(environ: dict[str, Any], start_response: Any) -> Any:
        hosts = allowed_hosts(environ.get("SERVER_NAME", ""), environ.get("SERVER_PORT", ""), extra)
        # Both the Host werkzeug settled on and, when the server kept it, the header as sent.
        seen = [environ.get("HTTP_HOST", "")]
        if RAW_HOST in environ:
            seen.append(environ[RAW_HOST])
        if all(host.strip().lower() in hosts for host in seen):
            return app(environ, start_response)
        port = environ.get("SERVER_PORT", "")
        text = (
            "421 Misdirected Request: localcloud answers only requests addressed to it by its own "
            f"names (Host 127.0.0.1:{port}, localhost:{port}, [::1]:{port}; more with --allowed-host)\n"
        )
        response = Response(text, status=421, content_type="text/plain; charset=utf-8", headers=_HEADERS)
        return response(environ, start_response)

    return guarded
