"""The room's nbgitpuller link: `python workshop/link.py http://hub.example:8000` prints it.

A participant who opens it logs in (if not yet), gets a server, and nbgitpuller clones the course into
<their folder>/refactoring-databases-hands-on, or, on a second click, merges the newer lessons in while keeping
what they changed (see workshop/README.md), then opens lesson 00.

The lessons come from WORKSHOP_REPO (a git URL; default: this checkout of the course, which the hub's machine can read
without a network) at WORKSHOP_BRANCH (default: this checkout's branch).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

COURSE = Path(__file__).resolve().parent.parent
COURSE_FOLDER = "refactoring-databases-hands-on"  # as in jupyterhub_config.py
FIRST_PAGE = "notebooks/00-start-here.ipynb"


def current_branch(repo: Path) -> str:
    out = subprocess.run(["git", "-C", str(repo), "rev-parse", "--abbrev-ref", "HEAD"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def pull_query(repo: str, branch: str, first_page: str = FIRST_PAGE) -> str:
    """nbgitpuller's query string: which repository and branch, into which folder, then which page opens."""
    return urlencode({
        "repo": repo,
        "branch": branch,
        "targetpath": COURSE_FOLDER,
        "urlpath": f"lab/tree/{COURSE_FOLDER}/{first_page}",
    })


def room_link(hub_url: str, repo: str | None = None, branch: str | None = None) -> str:
    """The link for everybody: /hub/user-redirect/ sends each participant to their own server's /git-pull."""
    repo = repo or os.environ.get("WORKSHOP_REPO") or f"file://{COURSE}"
    branch = branch or os.environ.get("WORKSHOP_BRANCH") or current_branch(COURSE)
    return f"{hub_url.rstrip('/')}/hub/user-redirect/git-pull?{pull_query(repo, branch)}"


if __name__ == "__main__":
    print(room_link(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"))
