"""JupyterHub for a classroom on one machine: `workshop/start` runs `jupyterhub -f workshop/jupyterhub_config.py`.

Every participant logs in with a name of their choice and the room's shared password, gets a JupyterLab server of
their own (a process on this machine) with a folder of their own (<data>/users/<name>), and clicks the room's
nbgitpuller link to get the lessons into that folder. No system users are made: every server runs as the OS user that
started the hub (see workshop/README.md for what that does not protect against).

Settings come from the environment (workshop/start sets the defaults):
    WORKSHOP_PASSWORD         the shared password (8 characters or more); required
    WORKSHOP_ADMIN_PASSWORD   optional: lets the user "instructor" log in as an admin (32 characters or more)
    WORKSHOP_IP, WORKSHOP_PORT               where participants connect (127.0.0.1:8000)
    WORKSHOP_HUB_PORT, WORKSHOP_PROXY_API_PORT   internal ports on 127.0.0.1 (8081, 8001)
    WORKSHOP_DATA             the hub's database, secrets and the participants' folders (workshop/data)
    WORKSHOP_IDLE_MINUTES     a server nobody used for this long is stopped; its folder stays (60)
    WORKSHOP_KERNEL_IDLE_MINUTES  an idle kernel is shut down inside a running server (30)
    WORKSHOP_MAX_SERVERS      running servers at most; the next one is refused with "try again later" (0: no limit)
    WORKSHOP_MEM_LIMIT        per-server memory figure handed to the server as MEM_LIMIT; NOT enforced (see README)
    WORKSHOP_SSL_CERT, WORKSHOP_SSL_KEY   a certificate and its key: the hub speaks HTTPS (do, for a room's network)
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (JupyterHub's config loader defines get_config)

WORKSHOP = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent  # the workshop's own venv, which runs this hub (workshop/start made it)
DATA = Path(os.environ.get("WORKSHOP_DATA", WORKSHOP / "data")).resolve()
USERS = DATA / "users"
# nbgitpuller clones the lessons into this folder inside each participant's folder (the link's targetPath).
COURSE_FOLDER = "refactoring-databases-hands-on"

DATA.mkdir(parents=True, exist_ok=True)
USERS.mkdir(exist_ok=True)


def setting(name, default):
    return os.environ.get(name) or default


# --- Where the hub listens. Participants reach only the proxy's port; the hub's API and the proxy's API stay local.
c.JupyterHub.bind_url = f"http://{setting('WORKSHOP_IP', '127.0.0.1')}:{setting('WORKSHOP_PORT', '8000')}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{setting('WORKSHOP_HUB_PORT', '8081')}"
# HTTPS on the participants' side (the proxy holds the certificate); the hub's own ports stay local and plain.
if os.environ.get("WORKSHOP_SSL_CERT") or os.environ.get("WORKSHOP_SSL_KEY"):
    for name in ("WORKSHOP_SSL_CERT", "WORKSHOP_SSL_KEY"):
        if not Path(os.environ.get(name) or "").is_file():
            sys.exit(f"workshop: {name} must name a readable file for HTTPS (a certificate and its key, both PEM), "
                     f"not {os.environ.get(name)!r}")
    c.JupyterHub.bind_url = c.JupyterHub.bind_url.replace("http://", "https://", 1)
    c.JupyterHub.ssl_cert = os.environ["WORKSHOP_SSL_CERT"]
    c.JupyterHub.ssl_key = os.environ["WORKSHOP_SSL_KEY"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{setting('WORKSHOP_PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.command = [str(WORKSHOP / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(DATA / "jupyterhub-proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{DATA / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(DATA / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(DATA / "jupyterhub.pid")

# --- Who gets in: anyone who knows the room's password, under a name of their choice (JupyterHub's built-in
# SharedPasswordAuthenticator, new in JupyterHub 5.3). Names become folder names: lower-case letters, digits, - and _.
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = os.environ["WORKSHOP_PASSWORD"]
c.Authenticator.allow_all = True
c.Authenticator.username_pattern = r"^[a-z][a-z0-9_-]{0,31}$"
if os.environ.get("WORKSHOP_ADMIN_PASSWORD"):
    c.Authenticator.admin_users = {"instructor"}
    c.SharedPasswordAuthenticator.admin_password = os.environ["WORKSHOP_ADMIN_PASSWORD"]

# --- A server and a folder for each participant, without system users: every server is a process of the OS user
# that runs the hub, started in <data>/users/<name>, which is also its HOME (so ~/.local, ~/.ipython are per person).
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(USERS / "{username}")
c.Spawner.cmd = [str(VENV_BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {
    # JupyterHub passes almost nothing of its own environment on: the venv comes first on the PATH, so the kernels
    # are the workshop venv's Python with the course's pinned packages.
    "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
    "LANG": os.environ.get("LANG", "C.UTF-8"),
    # The course's helper package (coursekit) is imported from the participant's own copy of the lessons, so what
    # a lesson writes next to the course (e.g. the embedded PostgreSQL's data) stays in that participant's folder.
    "PYTHONPATH": lambda spawner: str(Path(spawner.home_dir) / COURSE_FOLDER),
}
server_args = [
    # Kernels nobody uses are shut down inside a running server (the server itself is culled by the hub below).
    f"--MappingKernelManager.cull_idle_timeout={60 * int(setting('WORKSHOP_KERNEL_IDLE_MINUTES', '30'))}",
    "--MappingKernelManager.cull_interval=120",
]
if os.geteuid() == 0:  # containers and CI machines often run as root; Jupyter refuses that unless told
    server_args.append("--ServerApp.allow_root=True")
c.Spawner.args = server_args
# A room's servers start at the same minute on a busy machine: give them time.
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 120
c.JupyterHub.concurrent_spawn_limit = 20
c.JupyterHub.active_server_limit = int(setting("WORKSHOP_MAX_SERVERS", "0"))
# LocalProcessSpawner does not enforce memory or CPU limits: it only hands these figures to the server as the
# MEM_LIMIT / CPU_LIMIT environment variables. They are set so that a tool that shows them has the intended figure.
if os.environ.get("WORKSHOP_MEM_LIMIT"):
    c.Spawner.mem_limit = os.environ["WORKSHOP_MEM_LIMIT"]

# --- Idle servers are stopped by jupyterhub-idle-culler, run by the hub as a service; the participant's folder stays,
# and logging in again starts a new server on it.
idle_seconds = 60 * int(setting("WORKSHOP_IDLE_MINUTES", "60"))
c.JupyterHub.services = [
    {"name": "idle-culler", "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={idle_seconds}"]},
]
c.JupyterHub.load_roles = [
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }
]
