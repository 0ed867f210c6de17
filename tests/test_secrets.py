"""A helpdesk that echoes the credential back, in every form it travels in: the token must not
reach a log line, any table of the store, `status --json` or `check`, neither whole nor in part
(a cut excerpt), nor encoded (base64, URL-encoded, upper- or lower-cased)."""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from deskwatch.core.cli import main
from deskwatch.core.connect.http import excerpt, redact, variants

TOKEN = "Qz7wK-tok/en+9f3Xa_LmP0sR8vT2"
EMAIL = "bot@acme.example"


def forms(secret: str) -> list[str]:
    """Every form of ``secret`` that must never appear."""
    basic = base64.b64encode(f"{EMAIL}/token:{secret}".encode()).decode()
    return [
        secret, secret.upper(), secret.lower(), quote(secret, safe=""), quote_plus(secret),
        base64.b64encode(secret.encode()).decode(), base64.urlsafe_b64encode(secret.encode()).decode(),
        basic, basic.rstrip("="),
        secret[:5],  # what a cut at 200 characters used to leave behind
    ]


class EchoHandler(BaseHTTPRequestHandler):
    """Answers every request with an error whose body and headers repeat the credential."""

    hits = 0

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        type(self).hits += 1
        auth = self.headers.get("Authorization", "")
        token = base64.b64decode(auth.split(" ", 1)[1]).decode().split(":", 1)[1] if auth.startswith("Basic ") else ""
        # The padding puts the token across the 200-character excerpt cut.
        body = "E" * 195 + token + " " + " ".join([
            f"header={auth}", f"upper={token.upper()}", f"lower={token.lower()}", f"url={quote(token, safe='')}",
            f"b64={base64.b64encode(token.encode()).decode()}", f"path={self.path}",
        ])
        status = 503 if type(self).hits % 2 else 400  # a retried 5xx (logged) and a final 4xx
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Retry-After", "0")
        self.send_header("X-Echo-Token", token)
        self.send_header("WWW-Authenticate", f'Basic realm="{token.upper()}"')
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:  # keep the test output quiet
        pass


@pytest.fixture
def echo_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def dump_store(db: Path) -> str:
    """Every row of every table of the store, as text."""
    conn = sqlite3.connect(db)
    try:
        out = []
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                out.append(f"{table}: {row!r}")
        return "\n".join(out)
    finally:
        conn.close()


def assert_clean(where: str, text: str) -> None:
    for f in forms(TOKEN):
        assert f not in text, f"{where} holds the secret as {f!r}"


def test_echoed_secret_reaches_no_log_store_status_or_check(tmp_path, monkeypatch, capsys, echo_server):
    monkeypatch.setenv("DW_TEST_SECRET_TOKEN", TOKEN)
    db = tmp_path / "deskwatch.db"
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[store]\npath = "{db}"\n\n[daemon]\nlog_level = "debug"\nlog_format = "json"\n\n'
        f'[sources.echo]\ntype = "zendesk"\nbase_url = "{echo_server}"\nemail = "{EMAIL}"\n'
        'token = "${DW_TEST_SECRET_TOKEN}"\nmax_attempts = 2\nmax_retry_wait = 5\n'
    )
    assert main(["daemon", "--once", "--config", str(cfg)]) == 1  # the source failed, as it should
    logs = capsys.readouterr()
    lines = (logs.err + logs.out).splitlines()
    assert EchoHandler.hits >= 2
    assert any("will retry" in line for line in lines)  # the 503 was logged
    for line in lines:
        assert_clean("a log line", line)

    store = dump_store(db)
    assert "EEEE" in store and "***" in store  # the error was stored, redacted
    assert_clean("the store", store)

    assert main(["status", "--json", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    [row] = json.loads(out)["sources"]
    assert row["last_error"] and "***" in row["last_error"]
    assert_clean("status --json", out)

    assert main(["status", "--config", str(cfg)]) == 0
    assert_clean("status", capsys.readouterr().out)

    main(["check", "--json", "--config", str(cfg)])
    checked = capsys.readouterr()
    assert "echo" in checked.out
    assert_clean("check", checked.out + checked.err)


@pytest.mark.parametrize("cut", range(190, 200))
def test_excerpt_redacts_before_cutting(cut):
    text = "x" * cut + TOKEN + " tail"
    got = excerpt(text, 200, [TOKEN])
    assert TOKEN[:3] not in got and got.startswith("x" * cut) and got[cut] == "*"


@pytest.mark.parametrize("form", forms(TOKEN)[:-1])
def test_each_encoding_is_redacted(form):
    assert form not in redact(f"before {form} after", [TOKEN])


def test_a_secret_inside_any_base64_blob_is_masked():
    for prefix in ("", "a", "ab", "abc", "someone@example.com/token:"):
        blob = base64.b64encode(f"{prefix}{TOKEN}".encode()).decode()
        masked = redact(f"seen: {blob} end", [TOKEN])
        assert "***" in masked
        # What is left of the blob is the prefix's characters plus at most one shared one.
        left = masked.split("***")[0][len("seen: "):]
        assert len(left) <= len(base64.b64encode(prefix.encode()).rstrip(b"=")) + 1


def test_variants_cover_the_listed_forms():
    v = variants(TOKEN)
    assert TOKEN in v and quote(TOKEN, safe="") in v
    assert any(frag in base64.b64encode(TOKEN.encode()).decode() for frag in v if frag not in (TOKEN,))
