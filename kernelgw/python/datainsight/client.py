"""A JSON-RPC 2.0 client of the Datainsight sidecar (``datainsight serve``).

Standard library only. The sidecar is found, in this order, through

- ``DATAINSIGHT_URL`` and ``DATAINSIGHT_TOKEN`` in the environment;
- the runtime file the sidecar writes, ``datainsight-PORT.json`` (``{"url",
  "token", "pid", "root"}``), in ``$DATAINSIGHT_RUNTIME_DIR``, else
  ``$XDG_RUNTIME_DIR/datainsight``, else ``~/.local/share/datainsight/runtime``:
  the one for ``DATAINSIGHT_URL`` when that is set, else the newest one whose
  process is alive.

    >>> from datainsight.client import Client
    >>> Client().call("runs", path="nb.ipynb")
"""

import glob
import itertools
import json
import os
import urllib.error
import urllib.parse
import urllib.request

__all__ = [
    "Client", "Error", "Unreachable", "Unauthorized", "RPCError", "NotConfigured",
    "discover", "runtime_dir",
]

DEFAULT_TIMEOUT = 60.0

# Error codes of the sidecar (kernelgw/rpc/errors.go).
CODE_UNAUTHORIZED = -32001
CODE_NOT_FOUND = -32003


class Error(Exception):
    """Anything that went wrong talking to the sidecar; str() says what."""


class NotConfigured(Error):
    """No sidecar address or token was found."""


class Unreachable(Error):
    """The sidecar does not answer at its address."""


class Unauthorized(Error):
    """The sidecar refused the token."""


class RPCError(Error):
    """A method failed; code, message and data are the sidecar's."""

    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def runtime_dir(environ=None):
    """The folder the sidecar writes its runtime files to."""
    env = os.environ if environ is None else environ
    if env.get("DATAINSIGHT_RUNTIME_DIR"):
        return env["DATAINSIGHT_RUNTIME_DIR"]
    if env.get("XDG_RUNTIME_DIR"):
        return os.path.join(env["XDG_RUNTIME_DIR"], "datainsight")
    home = env.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".local", "share", "datainsight", "runtime")


def _alive(pid):
    if not isinstance(pid, int) or pid <= 0:
        return True  # unknown: do not rule it out
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, someone else's
    return True


def _same_url(a, b):
    return a.rstrip("/") == b.rstrip("/")


def _runtime_files(environ=None):
    """The runtime files' contents, newest first."""
    d = runtime_dir(environ)
    found = []
    for path in glob.glob(os.path.join(d, "datainsight-*.json")):
        try:
            with open(path, encoding="utf-8") as f:
                info = json.load(f)
            mtime = os.path.getmtime(path)
        except (OSError, ValueError):
            continue
        if isinstance(info, dict) and info.get("url") and info.get("token"):
            info["_path"] = path
            found.append((mtime, info))
    found.sort(key=lambda x: x[0], reverse=True)
    return [info for _, info in found]


def discover(environ=None):
    """(url, token) of the sidecar to talk to, or NotConfigured."""
    env = os.environ if environ is None else environ
    url = env.get("DATAINSIGHT_URL", "").strip()
    token = env.get("DATAINSIGHT_TOKEN", "").strip()
    if url and token:
        return url.rstrip("/"), token
    files = _runtime_files(env)
    for info in files:
        if url:
            if _same_url(info["url"], url):
                return url.rstrip("/"), token or info["token"]
        elif _alive(info.get("pid")):
            return info["url"].rstrip("/"), token or info["token"]
    where = runtime_dir(env)
    if url:
        raise NotConfigured(
            "no token for the sidecar at %s: set DATAINSIGHT_TOKEN (no runtime file for that address in %s)"
            % (url, where))
    raise NotConfigured(
        "no Datainsight sidecar found: start `datainsight serve`, or set DATAINSIGHT_URL and "
        "DATAINSIGHT_TOKEN (no runtime file in %s)" % where)


class Client:
    """Calls the sidecar's methods over HTTP (POST /rpc)."""

    def __init__(self, url=None, token=None, timeout=DEFAULT_TIMEOUT):
        if url is None or token is None:
            found_url, found_token = discover()
            url = url or found_url
            token = token or found_token
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise NotConfigured("the sidecar's address %r is not an http(s) URL" % url)
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._ids = itertools.count(1)
        # The sidecar is local: never go through a proxy from the environment.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def __repr__(self):
        return "Client(%r)" % self.url

    def call(self, method, params=None, **kwargs):
        """Calls method with params (a dict, or keyword arguments) and
        returns its result; raises an Error subclass."""
        if params is None:
            params = {}
        params = dict(params, **kwargs)
        body = json.dumps({"jsonrpc": "2.0", "id": next(self._ids), "method": method,
                           "params": params}).encode("utf-8")
        req = urllib.request.Request(self.url + "/rpc", data=body, method="POST", headers={
            "Content-Type": "application/json",
            "Authorization": "token " + self.token,
        })
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            if e.code in (401, 403) and not _has_error(raw, exclude=(CODE_UNAUTHORIZED,)):
                raise Unauthorized(
                    "the sidecar at %s refused the token (HTTP %d): check DATAINSIGHT_TOKEN, or the "
                    "runtime file in %s" % (self.url, e.code, runtime_dir())) from None
            if not raw:
                raise Error("%s: HTTP %d %s" % (method, e.code, e.reason)) from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise Unreachable(
                "cannot reach the Datainsight sidecar at %s (%s): is `datainsight serve` running?"
                % (self.url, reason)) from None
        try:
            msg = json.loads(raw.decode("utf-8"))
        except ValueError:
            raise Error("%s: the sidecar's answer is not JSON: %r" % (method, raw[:200])) from None
        err = msg.get("error") if isinstance(msg, dict) else None
        if err:
            code = err.get("code")
            if code == CODE_UNAUTHORIZED:
                raise Unauthorized("the sidecar at %s refused the token: %s" % (self.url, err.get("message")))
            raise RPCError(code, "%s: %s" % (method, err.get("message")), err.get("data"))
        if not isinstance(msg, dict) or "result" not in msg:
            raise Error("%s: the sidecar's answer has no result" % method)
        return msg["result"]


def _has_error(raw, exclude=()):
    """Whether raw is a JSON-RPC error other than those in exclude."""
    try:
        err = json.loads(raw.decode("utf-8")).get("error") or {}
    except (ValueError, AttributeError, UnicodeDecodeError):
        return False
    return bool(err) and err.get("code") not in exclude
