"""The Datainsight sidecar behind Jupyter: a jupyter_server extension.

Enable it with ``jupyter server --ServerApp.jpserver_extensions="{'datainsight': True}"``
(or the same in a config file; ``pip install`` of this package drops one into
``etc/jupyter/jupyter_server_config.d``). It

1. runs ``datainsight serve`` as a managed subprocess on a free loopback port,
   with the server's root directory, a random token of its own, and the
   Jupyter server's URL and token (for ``check``); it restarts the sidecar,
   with backoff, when it dies, and stops it when the server stops;
2. proxies the sidecar under the server's own URL and authentication:
   ``POST {base_url}datainsight/rpc`` and ``GET {base_url}datainsight/rpc/methods``
   to the sidecar's ``/rpc`` and ``/rpc/methods``, ``{base_url}datainsight/ws``
   (a WebSocket) to its ``/ws``, and ``GET {base_url}datainsight/status`` says
   whether the sidecar runs. The browser needs no other port and no other
   token: the proxy adds the sidecar's, which never leaves the server;
3. sets ``DATAINSIGHT_URL`` and ``DATAINSIGHT_TOKEN`` in the server's
   environment, which the kernels it starts inherit, so that
   ``%load_ext datainsight`` in a kernel finds the sidecar.

Configuration (``c.DatainsightExtension.X`` in ``jupyter_server_config.py``,
or ``--DatainsightExtension.X=...``): ``binary`` (default: ``datainsight`` on
PATH), ``args`` (more ``datainsight serve`` arguments, e.g. ``["--backend", "argo"]``),
``max_body_bytes``, ``max_message_bytes``, ``request_timeout``,
``start_timeout``, ``restart_delay``, ``max_restart_delay``.

Standard library, tornado and jupyter_server only; written for
jupyter_server 2.x and tested on 1.23.
"""

import asyncio
import atexit
import inspect
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time

from tornado import httpclient, web, websocket
from tornado.ioloop import IOLoop
from traitlets import Float, Integer, List, Unicode
from traitlets.config import Configurable

from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.utils import url_path_join

# The line of `datainsight serve`'s banner that holds its URL.
_URL_LINE = re.compile(r"^\s+(https?://\S+)\s*$")

# Where the proxy's paths live, under the server's base_url.
PREFIX = "datainsight"


class DatainsightExtension(Configurable):
    """Settings of the Datainsight server extension."""

    binary = Unicode(
        "",
        config=True,
        help="The datainsight binary (default: datainsight on PATH).",
    )
    args = List(
        Unicode(),
        config=True,
        help='More arguments for "datainsight serve", e.g. ["--backend", "argo"].',
    )
    max_body_bytes = Integer(
        8 << 20, config=True, help="The largest request body the proxy passes on (413 beyond)."
    )
    max_message_bytes = Integer(
        8 << 20, config=True, help="The largest WebSocket message the proxy relays, either way."
    )
    request_timeout = Float(300.0, config=True, help="Seconds a proxied HTTP call may take.")
    ping_interval = Float(
        30.0,
        config=True,
        help="Seconds between the proxy's pings on a browser's WebSocket (0: none). A browser "
        "that has not answered within ping_timeout is disconnected, and its sidecar connection "
        "closed with it: a tab that vanished without closing holds nothing.",
    )
    ping_timeout = Float(30.0, config=True, help="Seconds a browser has to answer a ping.")
    start_timeout = Float(
        30.0, config=True, help="Seconds a request waits for the sidecar to (re)start before a 503."
    )
    restart_delay = Float(1.0, config=True, help="Seconds before the first restart of a dead sidecar.")
    max_restart_delay = Float(
        30.0, config=True, help="The longest wait between restarts (the delay doubles up to it)."
    )


def _die_with_parent():
    """In the child before exec: SIGTERM when the server dies, even by SIGKILL (Linux)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class Sidecar:
    """The managed ``datainsight serve`` process."""

    def __init__(self, ext, serverapp, log):
        self.ext = ext
        self.serverapp = serverapp
        self.log = log
        self.token = secrets.token_urlsafe(32)
        self.url = None  # http://127.0.0.1:PORT while it runs
        self.pid = None
        self.starts = 0
        self.error = None  # why it is not running, for /status and 503s
        self._proc = None
        self._ready = None
        self._stopping = False
        self._wake = None
        self._task = None

    # -- state the handlers use ---------------------------------------------

    async def wait_ready(self):
        """The sidecar's URL, waiting up to start_timeout for it; None if it is not up."""
        if self.url is not None:
            return self.url
        if self._ready is None:
            return None
        try:
            await asyncio.wait_for(asyncio.shield(self._ready.wait()), self.ext.start_timeout)
        except asyncio.TimeoutError:
            return None
        return self.url

    def status(self):
        return {
            "running": self.url is not None,
            "pid": self.pid if self.url is not None else None,
            "starts": self.starts,
            "error": self.error,
        }

    # -- lifecycle -------------------------------------------------------------

    def start(self):
        """Starts supervising (call on the server's event loop)."""
        self._ready = asyncio.Event()
        self._wake = asyncio.Event()
        self._task = asyncio.ensure_future(self._supervise())

    def _binary(self):
        b = self.ext.binary or "datainsight"
        if os.sep in b:
            return b if os.access(b, os.X_OK) else None
        return shutil.which(b)

    def _jupyter_token(self):
        idp = getattr(self.serverapp, "identity_provider", None)  # jupyter_server 2.x
        tok = getattr(idp, "token", None) if idp is not None else None
        if tok is None:
            tok = getattr(self.serverapp, "token", "") or ""
        return tok

    async def _supervise(self):
        delay = self.ext.restart_delay
        port = 0
        while not self._stopping:
            began = time.monotonic()
            try:
                port = await self._run_once(port)
            except Exception as e:  # a start that failed: try again later
                self.error = f"cannot start the sidecar: {e}"
                self.log.error("datainsight: %s", self.error)
                port = 0
            if self._stopping:
                break
            if time.monotonic() - began > 60:
                delay = self.ext.restart_delay
            self.log.warning("datainsight: the sidecar is not running (%s); restarting in %.1fs", self.error, delay)
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except asyncio.TimeoutError:
                pass
            delay = min(delay * 2, self.ext.max_restart_delay)

    async def _run_once(self, port):
        """Runs the sidecar until it ends; returns the port to try next time."""
        binary = self._binary()
        if binary is None:
            raise RuntimeError(
                f"no datainsight binary ({self.ext.binary or 'datainsight on PATH'}): "
                "set c.DatainsightExtension.binary or put datainsight on PATH"
            )
        argv = [
            binary, "serve",
            "--addr", f"127.0.0.1:{port}",
            "--root", os.path.abspath(self.serverapp.root_dir),
            "--jupyter-url", self.serverapp.connection_url,
        ] + list(self.ext.args)
        env = dict(os.environ)
        # Tokens through the environment, not argv, which other users can read.
        env["DATAINSIGHT_TOKEN"] = self.token
        jtok = self._jupyter_token()
        if jtok:
            env["JUPYTER_TOKEN"] = jtok
        else:
            env.pop("JUPYTER_TOKEN", None)
        self.log.info("datainsight: starting %s", " ".join(argv))
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # Ctrl-C at the server's terminal is the server's to handle
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        self._proc, self.pid = proc, proc.pid
        self.starts += 1
        url = None
        tail = []
        try:
            while True:
                line = await proc.stdout.readline()
                if not line:
                    break
                text = line.decode("utf-8", "replace").rstrip()
                if url is None:
                    tail = (tail + [text])[-20:]
                    m = _URL_LINE.match(text)
                    if m:
                        url = m.group(1).rstrip("/")
                        self.url, self.error = url, None
                        os.environ["DATAINSIGHT_URL"] = url
                        self._ready.set()
                        self.log.info("datainsight: the sidecar (pid %d) serves at %s, proxied at %s",
                                      proc.pid, url, url_path_join(self.serverapp.connection_url, PREFIX))
                self.log.info("datainsight: %s", text)
        finally:
            self.url = None
            self._ready.clear()
            code = await proc.wait()
            self._proc = None
        self.error = f"datainsight serve (pid {proc.pid}) exited with {code}"
        if url is None and tail:
            self.error += ": " + " | ".join(t for t in tail if t.strip())
        if url is None:
            return 0  # it may not have been able to bind the old port
        # The same port again, so that kernels started earlier find it.
        return int(url.rsplit(":", 1)[1])

    async def stop(self):
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        self.stop_now()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 10)
            except Exception:
                pass

    def stop_now(self, timeout=5.0):
        """Stops the process synchronously (atexit: the event loop is gone)."""
        self._stopping = True
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        pid = proc.pid
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done:
                    return
            except ChildProcessError:  # reaped by asyncio's child watcher
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return
            time.sleep(0.05)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


async def _maybe_await(x):
    if inspect.isawaitable(x):
        return await x
    return x


class _Base(JupyterHandler):
    """Shared: who may use the sidecar, and where it is."""

    auth_resource = "datainsight"

    def initialize(self, sidecar, ext):
        self.sidecar = sidecar
        self.ext = ext

    async def _authorize(self, action):
        user = self.current_user
        if not user:
            raise web.HTTPError(403, "datainsight: not logged in to Jupyter")
        authorizer = getattr(self, "authorizer", None)
        if authorizer is not None:
            ok = await _maybe_await(authorizer.is_authorized(self, user, action, self.auth_resource))
            if not ok:
                raise web.HTTPError(403, f"datainsight: not authorized to {action}")

    async def _sidecar_url(self):
        url = await self.sidecar.wait_ready()
        if url is None:
            raise web.HTTPError(503, f"datainsight: the sidecar is not running: {self.sidecar.error or 'starting'}")
        return url


@web.stream_request_body
class RPCHandler(_Base, APIHandler):
    """POST /datainsight/rpc and GET /datainsight/rpc/methods, to the sidecar."""

    _xsrf_error = None

    def check_xsrf_cookie(self):
        # Jupyter's XSRF rule, applied in post once the body has been read:
        # a refusal before would close the connection with the body unread,
        # and the client would see a reset instead of the 403.
        try:
            return super().check_xsrf_cookie()
        except web.HTTPError as e:
            self._xsrf_error = e

    async def prepare(self):
        await _maybe_await(super().prepare())
        self._chunks, self._size = [], 0
        if self.request.method == "POST":
            # A body over the limit is read and dropped, then answered with
            # 413 (closing the connection unread would reset it before the
            # client sees the answer); past 8 times the limit tornado stops
            # reading and closes it.
            self.request.connection.set_max_body_size(8 * self.ext.max_body_bytes)

    def data_received(self, chunk):
        self._size += len(chunk)
        if self._size <= self.ext.max_body_bytes:
            self._chunks.append(chunk)
        else:
            self._chunks = []

    @web.authenticated
    async def post(self, path):
        if self._xsrf_error is not None:
            raise self._xsrf_error
        if path != "rpc":
            raise web.HTTPError(405)
        await self._authorize("write")
        if self._size > self.ext.max_body_bytes:
            raise web.HTTPError(413, f"datainsight: the request body is over {self.ext.max_body_bytes} bytes")
        await self._forward("POST", "/rpc", b"".join(self._chunks))

    @web.authenticated
    async def get(self, path):
        await self._authorize("read")
        await self._forward("GET", "/" + path, None)

    async def _forward(self, method, path, body):
        url = await self._sidecar_url()
        headers = {"Authorization": "token " + self.sidecar.token, "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = self.request.headers.get("Content-Type", "application/json")
        req = httpclient.HTTPRequest(
            url + path, method=method, body=body, headers=headers,
            request_timeout=self.ext.request_timeout, follow_redirects=False,
        )
        try:
            resp = await httpclient.AsyncHTTPClient().fetch(req, raise_error=False)
        except Exception as e:
            raise web.HTTPError(502, f"datainsight: the sidecar did not answer: {e}")
        if resp.code == 599:
            raise web.HTTPError(502, f"datainsight: the sidecar did not answer: {resp.error}")
        self.set_status(resp.code, resp.reason)
        self.set_header("Content-Type", resp.headers.get("Content-Type", "application/json"))
        self.finish(resp.body or b"")


class StatusHandler(_Base, APIHandler):
    """GET /datainsight/status: whether the sidecar runs (never its token)."""

    @web.authenticated
    async def get(self):
        await self._authorize("read")
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(self.sidecar.status()))


class WSProxyHandler(websocket.WebSocketHandler, _Base):
    """/datainsight/ws: a WebSocket to the sidecar's /ws, relayed both ways."""

    # WebSocketHandler first, as in Jupyter's own WebSocket handlers: its
    # methods must win over JupyterHandler's.
    upstream = None

    def set_default_headers(self):
        pass  # as Jupyter's own WebSocket handlers: no CSP and such on a 101

    def check_origin(self, origin=None):
        return JupyterHandler.check_origin(self)

    @property
    def max_message_size(self):
        return self.ext.max_message_bytes

    # The sidecar pings the proxy's own connection to it, which tornado
    # answers; the browser's side needs pings of the proxy's.
    @property
    def ping_interval(self):
        return self.ext.ping_interval or None

    @property
    def ping_timeout(self):
        return self.ext.ping_timeout or None

    def get_compression_options(self):
        return self.settings.get("websocket_compression_options", None)

    async def get(self, *args, **kwargs):
        # Before the handshake: refusals are plain HTTP errors.
        await self._authorize("execute")
        if not JupyterHandler.check_origin(self):
            raise web.HTTPError(403, "datainsight: foreign origin")
        url = await self._sidecar_url()
        req = httpclient.HTTPRequest(
            "ws" + url[len("http"):] + "/ws",
            headers={"Authorization": "token " + self.sidecar.token},
            connect_timeout=20, request_timeout=20,
        )
        try:
            self.upstream = await websocket.websocket_connect(req, max_message_size=self.ext.max_message_bytes)
        except Exception as e:
            raise web.HTTPError(502, f"datainsight: cannot open the sidecar's WebSocket: {e}")
        try:
            await websocket.WebSocketHandler.get(self, *args, **kwargs)
        finally:
            if self.ws_connection is None and self.upstream is not None:
                self.upstream.close()

    def open(self, *args, **kwargs):
        self._pump_task = asyncio.ensure_future(self._pump())

    async def _pump(self):
        """Sidecar to browser, until either side closes."""
        up = self.upstream
        try:
            while True:
                msg = await up.read_message()
                if msg is None:
                    break
                await self.write_message(msg, binary=isinstance(msg, bytes))
        except websocket.WebSocketClosedError:
            pass
        except Exception as e:
            self.log.warning("datainsight: relaying from the sidecar: %s", e)
        finally:
            up.close()
            if self.ws_connection is not None:
                # The sidecar's close code where it sent one, else "going away".
                code = _sendable(up.close_code)
                self.close(code if code is not None else 1001, up.close_reason)

    async def on_message(self, message):
        up = self.upstream
        if up is None:
            return
        try:
            await up.write_message(message, binary=isinstance(message, bytes))
        except websocket.WebSocketClosedError:
            self.close()

    def on_close(self):
        if self.upstream is not None:
            self.upstream.close(_sendable(self.close_code), self.close_reason)


def _sendable(code):
    """A close code that may be sent on (1005, 1006 and 1015 may not)."""
    if code is None or code in (1005, 1006, 1015) or not 1000 <= code <= 4999:
        return None
    return code


def _jupyter_server_extension_points():
    return [{"module": "datainsight.serverext"}]


def _load_jupyter_server_extension(serverapp):
    """Starts the sidecar's supervision and adds the proxy's handlers."""
    log = serverapp.log
    ext = DatainsightExtension(parent=serverapp)
    sidecar = Sidecar(ext, serverapp, log)
    # Kernels the server starts from now on inherit both (the URL once the
    # sidecar has printed it).
    os.environ["DATAINSIGHT_TOKEN"] = sidecar.token
    os.environ.pop("DATAINSIGHT_URL", None)
    web_app = serverapp.web_app
    base = web_app.settings.get("base_url", "/")
    kw = {"sidecar": sidecar, "ext": ext}
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, PREFIX, r"(rpc|rpc/methods)"), RPCHandler, kw),
            (url_path_join(base, PREFIX, "status"), StatusHandler, kw),
            (url_path_join(base, PREFIX, "ws"), WSProxyHandler, kw),
        ],
    )
    # Start on the running loop: by then the server listens, and its URL
    # (the port included) is final.
    IOLoop.current().add_callback(sidecar.start)
    atexit.register(sidecar.stop_now)
    serverapp.datainsight_sidecar = sidecar  # for other extensions and debugging
    log.info("datainsight: proxying the sidecar at %s", url_path_join(base, PREFIX) + "/")


# jupyter_server < 2 and notebook-style loaders look for this name too.
load_jupyter_server_extension = _load_jupyter_server_extension
