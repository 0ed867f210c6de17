"""Helpdesks that hang, drip, flood or redirect: each request ends within its deadline, a huge
body is refused without being held, a redirect is named as one, and `deskwatch status` shows
what a source is waiting on while it waits. Every server here is a few lines of asyncio streams
on 127.0.0.1, and every test is bounded in time."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import asynccontextmanager

import pytest
import tomli_w

from deskwatch.core import config
from deskwatch.core.cli import main
from deskwatch.core.cli.commands.daemon import build
from deskwatch.core.connect.errors import Redirected, ResponseTooLarge, TransientError
from deskwatch.core.connect.http import NO_RETRY, RetryPolicy, make_api_client, waiting_on
from deskwatch.core.daemon.sync import Daemon
from deskwatch.core.model.settings import ConfigError

@asynccontextmanager
async def serve(handler):
    """An HTTP-ish server on 127.0.0.1 whose connections ``handler(reader, writer)`` answers."""

    handlers: set[asyncio.Task] = set()

    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.add(asyncio.current_task())
        try:
            await reader.readuntil(b"\r\n\r\n")  # the request head; bodies are not sent here
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(run, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        for t in handlers:  # a silent or dripping handler would otherwise outlive the test
            t.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)


async def silent(reader, writer) -> None:
    await asyncio.sleep(3600)  # accepts, reads the request, never answers


async def drip(reader, writer) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
    await writer.drain()
    for _ in range(1000):  # one byte at a time, each well inside the per-read timeout
        writer.write(b" ")
        await writer.drain()
        await asyncio.sleep(0.2)


def flood(announce: bool):
    async def handler(reader, writer) -> None:
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        if announce:
            writer.write(f"{head}Content-Length: {300 * 1024 * 1024}\r\n\r\n".encode())
        else:
            writer.write(f"{head}Transfer-Encoding: chunked\r\n\r\n".encode())
        chunk = b"[" * 65536
        for _ in range(300 * 16):  # 300 MB if nobody stops reading
            writer.write(chunk if announce else b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
    return handler


def redirect(location: str):
    async def handler(reader, writer) -> None:
        writer.write(f"HTTP/1.1 301 Moved Permanently\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode())
        await writer.drain()
    return handler


def client(url: str, **kw):
    kw.setdefault("retry", NO_RETRY)
    kw.setdefault("timeout", 30.0)
    return make_api_client(url, source="hang", **kw)


async def test_a_server_that_never_answers_fails_within_the_deadline():
    async with serve(silent) as url:
        async with client(url, request_deadline=1.0) as c:
            started = time.monotonic()
            with pytest.raises(TransientError, match=r"no complete answer from GET http://127.0.0.1:\d+/api/v2/tickets "
                                                     r"within 1 s \(request_deadline\)"):
                await c.get_json("/api/v2/tickets", params={"token": "s3cret-value"})
            assert time.monotonic() - started < 3.0
    assert waiting_on("hang") is None  # nothing left in flight


async def test_a_dripping_server_fails_within_the_deadline_and_retries_keep_to_it():
    async with serve(drip) as url:
        # Each byte arrives well within the 30 s read timeout: only the deadline ends it.
        async with client(url, request_deadline=1.5, retry=RetryPolicy(max_attempts=3, base_delay=0.01)) as c:
            started = time.monotonic()
            with pytest.raises(TransientError, match="within 1.5 s"):
                await c.get("/api/v2/tickets")
            assert time.monotonic() - started < 4.0  # not retried into 3 deadlines
            assert c.attempts == 1


async def test_the_deadline_covers_every_attempt_of_a_request():
    async with serve(silent) as url:
        # Each read times out after 0.4 s and is retried; the deadline ends the whole request.
        async with client(url, timeout=0.4, request_deadline=1.0, retry=RetryPolicy(max_attempts=10, base_delay=0.01)) as c:
            started = time.monotonic()
            with pytest.raises(TransientError, match=r"within 1 s \(request_deadline\)"):
                await c.get("/api/v2/tickets")
            assert time.monotonic() - started < 2.5
            assert 2 <= c.attempts <= 4


async def test_the_endpoint_is_shown_while_waiting():
    async with serve(silent) as url:
        async with client(url, request_deadline=2.0) as c:
            task = asyncio.create_task(c.get("/api/v2/tickets", params={"token": "s3cret-value"}))
            await asyncio.sleep(0.5)
            w = waiting_on("hang")
            assert w is not None and w.endpoint == "GET /api/v2/tickets" and 0.3 < w.seconds() < 2.0
            with pytest.raises(TransientError):
                await task
    assert waiting_on("hang") is None


@pytest.mark.parametrize("announce", [True, False], ids=["content-length", "chunked"])
async def test_a_huge_body_is_refused(announce):
    async with serve(flood(announce)) as url:
        async with client(url, max_response_bytes=1024 * 1024) as c:
            started = time.monotonic()
            with pytest.raises(ResponseTooLarge, match=r"over max_response_bytes \(1 MB\).*Raise max_response_bytes"):
                await c.get_json("/api/v2/tickets")
            assert time.monotonic() - started < 10.0  # stopped reading early, not after 300 MB


async def test_a_body_under_the_cap_is_read_whole():
    async def small(reader, writer):
        body = json.dumps({"tickets": [{"id": i} for i in range(2000)]}).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()

    async with serve(small) as url:
        async with client(url, max_response_bytes=1024 * 1024) as c:
            assert len((await c.get_json("/x"))["tickets"]) == 2000


@pytest.mark.parametrize("location,host", [
    ("https://login.other.example:8443/sso?token=s3cret-value#x", "login.other.example:8443"),
    ("/elsewhere?token=s3cret-value", "127.0.0.1"),
])
async def test_a_redirect_is_reported_as_one_naming_the_host_only(location, host):
    async with serve(redirect(location)) as url:
        async with client(url) as c:
            with pytest.raises(Redirected) as info:
                await c.get_json("/api/v2/tickets")
    msg = str(info.value)
    assert f"redirected to {host}" in msg and "set base_url" in msg
    assert "s3cret-value" not in msg and "sso" not in msg and "elsewhere" not in msg
    assert "expected a JSON object" not in msg and info.value.status == 301


def test_the_limits_are_source_settings(tmp_path):
    def parse(extra: dict):
        data = config.default_data()
        data["sources"] = {"zd": {"type": "zendesk", "base_url": "http://127.0.0.1:9", "email": "a@b.example",
                                  "token": "abcd1234", **extra}}
        return config.parse_data(data, "test")

    from deskwatch.core.connect import plugins

    cfg = parse({"request_deadline": 7.5, "max_response_bytes": 2048})
    plugins.get_plugin_manager(cfg)
    plugins.validate_sources(cfg)
    conn = plugins.build_connector(cfg.sources["zd"])
    assert (conn.client.request_deadline, conn.client.max_response_bytes) == (7.5, 2048)
    conn = plugins.build_connector(parse({}).sources["zd"])
    assert (conn.client.request_deadline, conn.client.max_response_bytes) == (60.0, 50 * 1024 * 1024)
    with pytest.raises(ConfigError, match="request_deadline"):
        plugins.validate_sources(parse({"request_deadline": 0}))


async def test_status_shows_the_wait_then_the_failure(tmp_path, capsys):
    async with serve(silent) as url:
        data = config.default_data()
        data["store"] = {"path": str(tmp_path / "deskwatch.db")}
        data["sources"] = {"stuck": {"type": "zendesk", "base_url": url, "email": "a@b.example", "token": "abcd1234",
                                     "request_deadline": 4, "poll_interval": 60}}
        path = tmp_path / "c.toml"
        path.write_text(tomli_w.dumps(data))
        cfg = config.load(path)
        store, connectors = build(cfg)
        try:
            daemon = Daemon(cfg, store, connectors)
            run = asyncio.create_task(daemon.run(once=True))
            seen = None
            for _ in range(30):
                await asyncio.sleep(0.2)
                assert main(["status", "--json", "--config", str(path)]) == 0
                [row] = json.loads(capsys.readouterr().out)["sources"] or [None]
                if row and row["waiting"]:
                    seen = row
                    break
            assert seen is not None, "status never showed the wait"
            assert seen["waiting"]["endpoint"].startswith("GET /api/v2/") and seen["waiting"]["seconds"] >= 1.0
            assert main(["status", "--config", str(path)]) == 0
            text = capsys.readouterr().out
            assert "waiting on GET /api/v2/" in text and "never synced" in text and "never ago" not in text
            report = await asyncio.wait_for(run, 10)
            assert "request_deadline" in report.errors["stuck"]
        finally:
            store.close()
    assert main(["status", "--json", "--config", str(path)]) == 0
    [row] = json.loads(capsys.readouterr().out)["sources"]
    assert row["waiting"] is None and "no complete answer" in row["last_error"]
