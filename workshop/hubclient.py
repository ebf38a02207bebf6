"""A participant of the workshop's JupyterHub, driven from Python as a browser would: log in with the room's password,
start a server, click the nbgitpuller link, open a notebook's kernel through the hub's proxy, run its cells, click a
widget. Used by tests/test_workshop_hub.py, tests/test_workshop_load.py and benchmarks/workshop_load.py.

Everything goes through the hub's public URL (the proxy): the hub's login form and REST API, then each participant's
own Jupyter server under /user/<name>/ (its REST API, nbgitpuller's /git-pull/api event stream, and the kernel's
websocket, with the JSON messages of the Jupyter messaging protocol that JupyterLab sends).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import nbformat
import requests
import websocket


class HubError(RuntimeError):
    """The hub or a participant's server answered something other than what a browser would get when all is well."""


def wait_for_hub(url: str, timeout: float = 120, process=None, verify: str | bool = True) -> float:
    """Seconds until the hub answers its API through the proxy; raises if it does not within ``timeout``.
    ``verify``: requests' TLS check (a CA or certificate file for a self-signed certificate)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process is not None and process.poll() is not None:
            raise HubError(f"the hub exited with status {process.returncode} before answering")
        try:
            if requests.get(f"{url}/hub/api/", timeout=5, verify=verify).status_code == 200:
                return time.monotonic() - started
        except requests.ConnectionError:
            pass
        time.sleep(0.25)
    raise HubError(f"the hub did not answer at {url} within {timeout:.0f} s")


WORKSHOP = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def processes_in(folder: Path) -> list:
    """The processes (psutil) whose working directory is in ``folder``: participants' servers and kernels there."""
    import psutil

    found = []
    for process in psutil.process_iter(["pid"]):
        try:
            if Path(process.cwd()).is_relative_to(folder):
                found.append(process)
        except (psutil.Error, OSError, ValueError):
            continue
    return found


def install() -> None:
    """`workshop/start --install-only`: the workshop's venv and the proxy (quick when they are there already)."""
    subprocess.run([str(WORKSHOP / "start"), "--install-only"], check=True, timeout=900)


@dataclass
class Hub:
    """A hub that `running_hub` started: its public URL, data folder, password, start-up time and log; with HTTPS,
    the certificate its participants trust (``verify``)."""

    url: str
    data: Path
    password: str
    process: subprocess.Popen
    log: Path
    ready_seconds: float = 0.0
    verify: str | bool = True

    @property
    def users(self) -> Path:
        return self.data / "users"


@contextmanager
def running_hub(data: Path, password: str = "workshop-test-password", **settings: str) -> Iterator[Hub]:
    """`workshop/start` on 127.0.0.1 with free ports and its own data folder, stopped (with every participant's
    server, the proxy and the culler) when the block ends. ``settings``: more WORKSHOP_* variables (with
    WORKSHOP_SSL_CERT the hub speaks HTTPS, and that certificate is the one trusted)."""
    data.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {**os.environ, "WORKSHOP_DATA": str(data), "WORKSHOP_PASSWORD": password, "WORKSHOP_IP": "127.0.0.1",
           "WORKSHOP_PORT": str(port), "WORKSHOP_HUB_PORT": str(free_port()),
           "WORKSHOP_PROXY_API_PORT": str(free_port()), **settings}
    log = data / "hub.log"
    started = time.monotonic()
    with open(log, "w") as out:
        process = subprocess.Popen([str(WORKSHOP / "start")], env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    certificate = settings.get("WORKSHOP_SSL_CERT")
    scheme = "https" if certificate else "http"
    hub = Hub(f"{scheme}://127.0.0.1:{port}", data, password, process, log, verify=certificate or True)
    try:
        wait_for_hub(hub.url, timeout=180, process=process, verify=hub.verify)
        hub.ready_seconds = time.monotonic() - started
        yield hub
    finally:
        stop_hub(hub)


def stop_hub(hub: Hub) -> None:
    """SIGTERM: the hub stops the participants' servers and the proxy, as after Ctrl-C. Whatever is left after 60 s
    (or was started in the data folder and outlived the hub) is killed."""
    if hub.process.poll() is None:
        hub.process.send_signal(signal.SIGTERM)
        try:
            hub.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(hub.process.pid, signal.SIGKILL)  # the hub's own session: the start script, hub, proxy, culler
    except (ProcessLookupError, PermissionError):
        pass
    hub.process.wait(timeout=30)
    for process in processes_in(hub.data):
        try:
            process.kill()
        except Exception:  # noqa: BLE001 (gone already, or not ours to kill)
            pass


class Participant:
    """One person in the room, with a browser session (cookies) and then an API token of their own."""

    def __init__(self, hub_url: str, name: str, verify: str | bool = True):
        self.hub_url = hub_url.rstrip("/")
        self.name = name
        self.session = requests.Session()
        self.session.verify = verify  # a certificate file: a hub with a self-signed certificate
        # The hub is on this machine: no proxy from the environment, and no REQUESTS_CA_BUNDLE, which requests would
        # prefer to ``verify`` and which does not hold a room's self-signed certificate.
        self.session.trust_env = False
        self.token: str | None = None

    # --- the hub ---------------------------------------------------------------------------------------------------
    def log_in(self, password: str) -> bool:
        """The login form, as a browser posts it (with the _xsrf cookie the form's page set). True when let in."""
        self.session.get(f"{self.hub_url}/hub/login", timeout=30).raise_for_status()
        xsrf = self.session.cookies.get("_xsrf", path="/hub/")
        answer = self.session.post(f"{self.hub_url}/hub/login",
                                   data={"username": self.name, "password": password, "_xsrf": xsrf},
                                   allow_redirects=False, timeout=60)
        if answer.status_code != 302:
            return False
        # A token for the REST calls a script makes (the browser's cookie would do; a token is what scripts use).
        # Logging in gave the browser a new _xsrf cookie (it is tied to the login session): the page sends that one.
        self.session.get(f"{self.hub_url}/hub/home", timeout=60).raise_for_status()
        xsrf = self.session.cookies.get("_xsrf", path="/hub/")
        made = self.session.post(f"{self.hub_url}/hub/api/users/{self.name}/tokens",
                                 json={"note": "workshop client", "expires_in": 4 * 3600},
                                 headers={"X-XSRFToken": xsrf}, timeout=60)
        if made.status_code != 201:
            raise HubError(f"{self.name}: making a token answered {made.status_code}: {made.text[:300]}")
        self.token = made.json()["token"]
        return True

    def _headers(self) -> dict:
        if not self.token:
            raise HubError(f"{self.name} is not logged in")
        return {"Authorization": f"token {self.token}"}

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        """A call to the hub's REST API (/hub/api/...)."""
        kwargs.setdefault("timeout", 60)
        return self.session.request(method, f"{self.hub_url}/hub/api{path}", headers=self._headers(), **kwargs)

    def start_server(self, timeout: float = 240) -> float:
        """Ask the hub for this participant's server; seconds until it is ready (as the spawn-pending page waits)."""
        started = time.monotonic()
        answer = self.api("POST", f"/users/{self.name}/server")
        # 429: more servers are starting than the hub's concurrent_spawn_limit; its page says "try again in n
        # seconds" (the Retry-After header), and a participant does.
        while answer.status_code == 429 and time.monotonic() - started < timeout:
            time.sleep(min(float(answer.headers.get("Retry-After") or 5), 30))
            answer = self.api("POST", f"/users/{self.name}/server")
        if answer.status_code not in (201, 202, 400):  # 400: already running
            raise HubError(f"{self.name}: starting the server answered {answer.status_code}: {answer.text[:300]}")
        while time.monotonic() - started < timeout:
            server = self.api("GET", f"/users/{self.name}").json().get("servers", {}).get("", {})
            if server.get("ready"):
                return time.monotonic() - started
            if not server.get("pending") and answer.status_code != 400 and time.monotonic() - started > 5:
                raise HubError(f"{self.name}: the server stopped while starting: {server}")
            time.sleep(0.5)
        raise HubError(f"{self.name}: the server was not ready within {timeout:.0f} s")

    def stop_server(self) -> None:
        self.api("DELETE", f"/users/{self.name}/server")

    # --- the participant's own server ------------------------------------------------------------------------------
    def server(self, method: str, path: str, **kwargs) -> requests.Response:
        """A call to this participant's Jupyter server, through the proxy (/user/<name>/...)."""
        kwargs.setdefault("timeout", 60)
        return self.session.request(method, f"{self.hub_url}/user/{self.name}/{path.lstrip('/')}",
                                    headers=self._headers(), **kwargs)

    def git_pull(self, query: str, timeout: float = 300) -> list[str]:
        """nbgitpuller's event stream (what the link's page listens to) until it says finished; its output lines."""
        lines: list[str] = []
        with self.server("GET", f"git-pull/api?{query}", stream=True, timeout=timeout) as answer:
            if answer.status_code != 200:
                raise HubError(f"{self.name}: git-pull answered {answer.status_code}: {answer.text[:300]}")
            for raw in answer.iter_lines(decode_unicode=True):
                if not raw or not raw.startswith("data:"):
                    continue
                event = json.loads(raw[len("data:"):])
                if event.get("output"):
                    lines.append(event["output"].rstrip())
                if event.get("phase") == "error":
                    raise HubError(f"{self.name}: nbgitpuller failed: {event.get('message')}\n" + "\n".join(lines))
                if event.get("phase") == "finished":
                    return lines
        raise HubError(f"{self.name}: nbgitpuller's stream ended without 'finished'")

    def read_file(self, path: str) -> dict | None:
        """The contents API's model of a file in this participant's folder, or None if there is no such file."""
        answer = self.server("GET", f"api/contents/{quote(path)}")
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        return answer.json()

    def write_notebook(self, path: str, notebook) -> None:
        answer = self.server("PUT", f"api/contents/{quote(path)}",
                             json={"type": "notebook", "format": "json", "content": notebook})
        answer.raise_for_status()

    def open_kernel(self, notebook_path: str) -> Kernel:
        """A kernel for a notebook, as JupyterLab opens one (a session: its cwd is the notebook's folder)."""
        answer = self.server("POST", "api/sessions", json={"path": notebook_path, "type": "notebook", "name": "",
                                                           "kernel": {"name": "python3"}})
        if answer.status_code != 201:
            raise HubError(f"{self.name}: opening a kernel answered {answer.status_code}: {answer.text[:300]}")
        session = answer.json()
        ws_url = self.hub_url.replace("http", "ws", 1) + \
            f"/user/{self.name}/api/kernels/{session['kernel']['id']}/channels?session_id={session['id']}"
        return Kernel(self, session["id"], session["kernel"]["id"], ws_url)


@dataclass
class Reply:
    """What one execute or comm message brought back: the kernel's status, error and printed output."""

    status: str = ""
    ename: str = ""
    evalue: str = ""
    stdout: str = ""
    seconds: float = 0.0
    updates: int = 0  # comm messages (widget state updates) the kernel sent while handling the request
    states: dict = field(default_factory=dict)  # the widget states those messages set, by comm id
    busy_seconds: float | None = None  # the kernel's own busy -> idle time (its clock): the rest is the way there


@dataclass
class RunAll:
    """A Restart & Run All of one notebook, cell by cell, as a learner's JupyterLab runs it."""

    notebook: str
    seconds: float = 0.0
    cells: int = 0
    failures: list[str] = field(default_factory=list)


class Kernel:
    """A kernel's websocket through the proxy: the JSON messages JupyterLab sends and reads."""

    def __init__(self, participant: Participant, session_id: str, kernel_id: str, ws_url: str, timeout: float = 600):
        self.participant = participant
        self.session_id = session_id
        self.kernel_id = kernel_id
        self.client_session = uuid.uuid4().hex
        self.ws_url = ws_url
        verify = participant.session.verify
        sslopt = {"ca_certs": verify} if isinstance(verify, str) else {} if verify else {"cert_reqs": ssl.CERT_NONE}
        self.ws = websocket.create_connection(ws_url, header=[f"Authorization: token {participant.token}"],
                                              timeout=timeout, sslopt=sslopt)

    def close(self, shut_down: bool = True) -> None:
        self.ws.close()
        if shut_down:
            self.participant.server("DELETE", f"api/sessions/{self.session_id}")

    def _send(self, channel: str, msg_type: str, content: dict) -> str:
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": msg_type, "username": self.participant.name,
                       "session": self.client_session, "version": "5.3", "date": datetime.now(UTC).isoformat()},
            "parent_header": {}, "metadata": {}, "content": content, "channel": channel, "buffers": [],
        }))
        return msg_id

    def _wait(self, msg_id: str, want_reply: bool) -> Reply:
        """Read messages until the kernel is idle again after ``msg_id`` (and its shell reply came, if one is due)."""
        reply, idle, replied, busy_at = Reply(), False, not want_reply, None
        while not (idle and replied):
            message = json.loads(self.ws.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "status" and content.get("execution_state") == "busy":
                busy_at = datetime.fromisoformat(message["header"]["date"])
            elif kind == "status" and content.get("execution_state") == "idle":
                idle = True
                if busy_at is not None:
                    reply.busy_seconds = (datetime.fromisoformat(message["header"]["date"]) - busy_at).total_seconds()
            elif kind == "execute_reply":
                replied = True
                reply.status = content["status"]
                reply.ename, reply.evalue = content.get("ename", ""), content.get("evalue", "")
            elif kind == "stream" and content.get("name") == "stdout":
                reply.stdout += content["text"]
            elif kind == "error" and not reply.ename:
                reply.ename, reply.evalue = content["ename"], content["evalue"]
            elif kind in ("comm_msg", "comm_open"):
                reply.updates += 1
                data = content.get("data", {})
                if data.get("method") in ("update", "echo_update") or kind == "comm_open":
                    reply.states.setdefault(content["comm_id"], {}).update(data.get("state", {}))
        return reply

    def execute(self, code: str) -> Reply:
        started = time.perf_counter()
        msg_id = self._send("shell", "execute_request", {"code": code, "silent": False, "store_history": True,
                                                         "user_expressions": {}, "allow_stdin": False,
                                                         "stop_on_error": True})
        reply = self._wait(msg_id, want_reply=True)
        reply.seconds = time.perf_counter() - started
        return reply

    def run_all(self, notebook_path: str) -> RunAll:
        """Every code cell of the participant's own copy of the notebook, in order. A cell tagged raises-exception
        may fail (it fails on purpose); any other failure is recorded, and the run goes on as JupyterLab's would not
        (so one failure does not hide the next)."""
        model = self.participant.read_file(notebook_path)
        if model is None:
            raise HubError(f"{self.participant.name} has no {notebook_path}")
        notebook = nbformat.from_dict(model["content"])
        result = RunAll(notebook_path)
        started = time.perf_counter()
        for number, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            reply = self.execute(cell.source)
            result.cells += 1
            if reply.status != "ok" and "raises-exception" not in cell.metadata.get("tags", []):
                result.failures.append(f"cell {number}: {reply.ename}: {reply.evalue}")
        result.seconds = time.perf_counter() - started
        return result

    def widget_update(self, comm_id: str, state: dict) -> Reply:
        """What JupyterLab sends when a widget changes in the page (a ToggleButton clicked: its new value), timed
        until the kernel is idle again, i.e. after every state update the click caused has come back to the page."""
        started = time.perf_counter()
        msg_id = self._send("shell", "comm_msg", {"comm_id": comm_id,
                                                  "data": {"method": "update", "state": state, "buffer_paths": []}})
        reply = self._wait(msg_id, want_reply=False)
        reply.seconds = time.perf_counter() - started
        return reply
