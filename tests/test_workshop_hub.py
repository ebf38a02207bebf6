"""The workshop's JupyterHub (workshop/), tested as a room uses it, on 127.0.0.1 only.

`workshop/start` runs the hub with its own scratch data folder and free ports; three participants log in through the
hub's login form with the room's password, get a server each from the hub's REST API, pull the course into their own
folder through nbgitpuller (from a local clone of this repository), and run lessons 01 and 02 in their own kernels
through the hub's proxy (the Jupyter server's REST API and the kernel's websocket, as JupyterLab talks to them). Then:
their files are their own, and a second pull keeps what a participant changed. With a certificate the hub speaks HTTPS
(and wss:// to the kernels) and nothing else. The first run installs the workshop's venv and proxy
(workshop/start --install-only: about a minute); later runs take about a minute.
"""

from __future__ import annotations

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlparse

import nbformat
import pytest
import requests

from tests.conftest import REPO
from workshop.hubclient import HubError, Participant, install, processes_in, running_hub
from workshop.link import COURSE_FOLDER, current_branch, pull_query, room_link

NAMES = ("ada", "grace", "linus")
LESSONS = ("01-add-a-status-column", "02-migration-steps-in-one-transaction")
# What each kernel reports about itself: where it runs, where coursekit comes from, its HOME; and a file it writes.
WHERE = ("import json, os, coursekit\n"
         "open('whose.txt', 'w').write({name!r})\n"
         "print(json.dumps({{'cwd': os.getcwd(), 'coursekit': coursekit.__file__, 'home': os.environ['HOME'],"
         " 'files': sorted(os.listdir('.'))}}))")


def git(*arguments, cwd):
    return subprocess.run(["git", *arguments], cwd=cwd, check=True, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    """The course as the room pulls it: a clone of this repository (its committed lessons)."""
    install()
    clone = tmp_path_factory.mktemp("upstream") / "course"
    git("clone", "--quiet", str(REPO), str(clone), cwd=clone.parent)
    return clone


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    install()
    with running_hub(tmp_path_factory.mktemp("workshop-data")) as running:
        yield running
    assert not processes_in(running.data), "a participant's server or kernel outlived the hub"


@pytest.fixture(scope="module")
def room(hub, upstream):
    """Three participants logged in through the form, each with a server and the course pulled into their folder."""
    people = [Participant(hub.url, name) for name in NAMES]
    for person in people:
        assert person.log_in(hub.password), f"{person.name} could not log in with the room's password"
    with ThreadPoolExecutor(len(people)) as pool:
        list(pool.map(lambda person: person.start_server(), people))
        query = pull_query(f"file://{upstream}", current_branch(upstream))
        list(pool.map(lambda person: person.git_pull(query), people))
    return people


def lesson_path(lesson: str) -> str:
    return f"{COURSE_FOLDER}/notebooks/{lesson}.ipynb"


def test_the_rooms_password_lets_in_a_name_of_ones_choice_and_nothing_else(hub):
    assert not Participant(hub.url, "mallory").log_in("not-the-password")
    assert not Participant(hub.url, "Not A Folder/Name").log_in(hub.password)
    assert Participant(hub.url, "margaret").log_in(hub.password)


def test_the_rooms_link_starts_the_server_and_opens_nbgitpuller(hub, upstream):
    person = Participant(hub.url, "katherine")
    assert person.log_in(hub.password)
    link = room_link(hub.url, f"file://{upstream}", current_branch(upstream))
    page = person.session.get(link, timeout=120)
    # /hub/user-redirect/ -> /hub/spawn/katherine -> the page that waits for the new server, then goes on to `next`
    assert urlparse(page.url).path == "/hub/spawn-pending/katherine", page.url
    person.start_server()  # waits until it is ready, as that page does
    pull_page = person.session.get(hub.url + parse_qs(urlparse(page.url).query)["next"][0], timeout=120)
    assert pull_page.status_code == 200 and urlparse(pull_page.url).path == "/user/katherine/git-pull"
    assert f'data-targetpath="{COURSE_FOLDER}"' in pull_page.text and "Synchronizing" in pull_page.text
    person.stop_server()


def run_lessons(person: Participant) -> dict:
    """Lessons 01 and 02, each in a fresh kernel of the participant's own server, and where each kernel ran."""
    report = {}
    for lesson in LESSONS:
        kernel = person.open_kernel(lesson_path(lesson))
        try:
            run = kernel.run_all(lesson_path(lesson))
            where = kernel.execute(WHERE.format(name=person.name))
        finally:
            kernel.close()
        report[lesson] = {"cells": run.cells, "failures": run.failures, "seconds": run.seconds,
                          "where": json.loads(where.stdout) if where.status == "ok" else where.evalue}
    return report


@pytest.fixture(scope="module")
def lessons_run(room):
    started = time.monotonic()
    with ThreadPoolExecutor(len(room)) as pool:
        reports = dict(zip(NAMES, pool.map(run_lessons, room), strict=True))
    return reports, time.monotonic() - started


def test_each_participant_runs_lessons_01_and_02_in_their_own_kernel(lessons_run):
    reports, _ = lessons_run
    for name, report in reports.items():
        for lesson, run in report.items():
            assert run["cells"] > 10, (name, lesson, run)
            assert run["failures"] == [], (name, lesson, run["failures"])


def test_each_kernel_runs_in_the_participants_own_folder_with_their_own_coursekit(hub, lessons_run):
    reports, _ = lessons_run
    for name, report in reports.items():
        home = hub.users / name
        for lesson, run in report.items():
            where = run["where"]
            assert isinstance(where, dict), (name, lesson, where)
            assert where["home"] == str(home)
            assert where["cwd"] == str(home / COURSE_FOLDER / "notebooks")
            assert where["coursekit"] == str(home / COURSE_FOLDER / "coursekit" / "__init__.py")


def test_a_file_a_participant_writes_is_in_their_folder_only(hub, room, lessons_run):
    for person in room:
        written = person.read_file(f"{COURSE_FOLDER}/notebooks/whose.txt")
        assert written is not None and written["content"] == person.name
        assert (hub.users / person.name / COURSE_FOLDER / "notebooks" / "whose.txt").read_text() == person.name
    ada, grace, _ = room
    ada_only = f"{COURSE_FOLDER}/notebooks/ada-only.txt"
    assert ada.server("PUT", f"api/contents/{ada_only}",
                      json={"type": "file", "format": "text", "content": "mine"}).status_code == 201
    assert ada.read_file(ada_only)["content"] == "mine"
    assert grace.read_file(ada_only) is None
    assert not (hub.users / "grace" / COURSE_FOLDER / "notebooks" / "ada-only.txt").exists()
    # A participant's token opens their own server only.
    assert ada.session.get(f"{hub.url}/user/grace/api/contents", headers={"Authorization": f"token {ada.token}"},
                           allow_redirects=False, timeout=60).status_code in (302, 403)


def test_a_second_pull_merges_new_lessons_and_keeps_what_a_participant_changed(room, upstream, lessons_run):
    ada = room[0]
    path = lesson_path(LESSONS[0])
    notebook = nbformat.from_dict(ada.read_file(path)["content"])
    notebook.cells.insert(1, nbformat.v4.new_markdown_cell("Ada's note: the backfill is the slow part."))
    ada.write_notebook(path, notebook)
    # The instructor changes the course meanwhile: a new file and an edit to another lesson.
    (upstream / "NEWS.md").write_text("Lesson 02 now says why.\n")
    other = upstream / "notebooks" / f"{LESSONS[1]}.ipynb"
    lesson_two = nbformat.read(other, as_version=4)
    lesson_two.cells.insert(1, nbformat.v4.new_markdown_cell("Added by the instructor."))
    nbformat.write(lesson_two, other)
    git("add", "NEWS.md", str(other), cwd=upstream)
    git("-c", "user.name=Instructor", "-c", "user.email=instructor@example.org", "commit", "--quiet",
        "-m", "An update during the workshop", cwd=upstream)

    output = ada.git_pull(pull_query(f"file://{upstream}", current_branch(upstream)))

    mine = nbformat.from_dict(ada.read_file(path)["content"])
    assert mine.cells[1].source == "Ada's note: the backfill is the slow part.", "\n".join(output)
    assert ada.read_file(f"{COURSE_FOLDER}/NEWS.md")["content"] == "Lesson 02 now says why.\n"
    theirs = nbformat.from_dict(ada.read_file(lesson_path(LESSONS[1]))["content"])
    assert theirs.cells[1].source == "Added by the instructor."
    assert ada.read_file(f"{COURSE_FOLDER}/notebooks/ada-only.txt")["content"] == "mine"
    # Grace did not click the link again: her copy is as it was.
    assert room[1].read_file(f"{COURSE_FOLDER}/NEWS.md") is None


def self_signed(folder) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key (openssl), as an instructor would make one for the room's address."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=120)
    return str(cert), str(key)


def test_with_a_certificate_the_room_speaks_https_only(tmp_path):
    install()
    cert, key = self_signed(tmp_path)
    with running_hub(tmp_path / "data", WORKSHOP_SSL_CERT=cert, WORKSHOP_SSL_KEY=key) as hub:
        assert hub.url.startswith("https://127.0.0.1:")
        # The start script gives the room an https address and link.
        printed = hub.log.read_text()
        assert f"JupyterHub at {hub.url}/" in printed and f"{hub.url}/hub/user-redirect/git-pull?" in printed
        # Plain HTTP on that port gets no page (the password would cross the network unencrypted).
        with pytest.raises(requests.ConnectionError):
            requests.get(hub.url.replace("https://", "http://") + "/hub/login", timeout=20)
        # A participant logs in over HTTPS, and their kernel's websocket (wss://) runs code.
        ada = Participant(hub.url, "ada", verify=cert)
        assert ada.log_in(hub.password)
        ada.start_server()
        kernel = ada.open_kernel("scratch.ipynb")
        try:
            assert kernel.ws_url.startswith("wss://")
            assert kernel.execute("print(6 * 7)").stdout == "42\n"
        finally:
            kernel.close()
    assert not processes_in(hub.data)


def test_a_certificate_without_its_key_stops_the_hub_with_what_is_missing(tmp_path):
    install()
    cert, _ = self_signed(tmp_path)
    with pytest.raises(HubError, match="exited"):
        with running_hub(tmp_path / "data", WORKSHOP_SSL_CERT=cert):
            pass
    assert "WORKSHOP_SSL_KEY must name a readable file" in (tmp_path / "data" / "hub.log").read_text()
