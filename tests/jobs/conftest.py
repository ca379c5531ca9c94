"""The three jobs of Django's Apache recipe, end to end, as the guides set them up.

* Django: tests/jobs/make_jobs_db.py runs a real Django 5.2 (.venv-django52)
  over the guides' project (examples/guides/django/: apps `svn` and
  `shares`, whose migrations create the permissions and groups) and adds the
  users; every password is USERNAME-pw.
* djauth: the real daemon with the guides' examples/guides/djauth.toml, its
  paths and ports replaced by the test's (see `guide_text`), logging every
  check and every password hash at debug level so the tests can count them.
* Apache: a private Apache 2.4 per front door ("module": mod_djauth,
  "fcgi": mod_authnz_fcgi), built from examples/apache/private-httpd.conf.in
  plus tests/jobs/jobs-modules.conf.in plus the guides' own
  examples/guides/{media,svn,webdav}-DOOR.conf, unchanged but for paths and
  ports. Tests that take the `server` fixture run once per door.

Clients are the real ones: curl, svn, cadaver. Everything is started here and
stopped by PID; a missing piece fails the run, it never skips.
"""

import grp
import json
import os
import pwd
import re
import shutil
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from support.apache import private_apache
from support.django import django_python
from support.djauth import DjauthProcess, mod_djauth_so
from support.procs import free_port
from support.scratch import scratch_dir, watch_log

REPO = Path(__file__).resolve().parents[2]
GUIDES = REPO / "examples" / "guides"
HERE = Path(__file__).resolve().parent
DOORS = ["module", "fcgi"]
# What the daemon logs, and what the tests count in its log.
DJAUTH_LOG = "info,djauth::door=debug,djauth_policy::kdf=debug"
CHECK_LINE = re.compile(r"\b(DEBUG|INFO)\s+(granted|denied)\b")
KDF_LINE = re.compile(r"\bpassword hash computed\b")
# The real-server paths and ports the guides' files use; guide_text replaces them all.
REAL_SERVER = re.compile(r"/srv/|/run/djauth|127\.0\.0\.1:950\d|\"www-data\"")

SUMMARY = []  # observed counts, printed at the end of the run


def guide_text(name, replacements):
    """examples/guides/NAME with the real server's paths and ports replaced.

    Each key must occur in the file, and nothing that looks like the real
    server may be left, so the test serves exactly the guide's configuration.
    """
    text = (GUIDES / name).read_text()
    for real, test in replacements.items():
        if real in text:
            text = text.replace(real, str(test))
    leftover = REAL_SERVER.findall(text)
    assert not leftover, f"{name}: no test value for {leftover}"
    return text


def as_root():
    return os.geteuid() == 0


def give_to_apache(path):
    """As root, Apache's children run as nobody:nogroup: let them write `path` (recursively)."""
    if not as_root():
        return
    uid, gid = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
    for root, dirs, files in os.walk(path):
        os.chown(root, uid, gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid)


def write_tree(root, files):
    """Files {relative path: text} under root, readable by everyone."""
    for rel, text in files.items():
        path = Path(root) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for dirpath, _, names in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in names:
            os.chmod(os.path.join(dirpath, name), 0o644)


@pytest.fixture(scope="session")
def workdir():
    yield from scratch_dir("djauth-jobs-")


@pytest.fixture(scope="session")
def django_users(workdir):
    """Build db.sqlite3 with Django; returns what Django says of each user."""
    db = workdir / "db.sqlite3"
    proc = subprocess.run(
        [str(django_python()), str(HERE / "make_jobs_db.py"), str(db)],
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"),
    )
    if proc.returncode != 0:
        pytest.fail(f"make_jobs_db.py failed:\n{proc.stdout}{proc.stderr}", pytrace=False)
    db.chmod(0o644)
    return json.loads(proc.stdout)


@dataclass
class Counts:
    """What happened while a `with measure(daemon, server)` block ran."""

    checks: int = 0  # questions djauth answered (granted or denied), from its log
    kdf: int = 0  # password hashes djauth computed, from its log
    requests: int = 0  # HTTP requests Apache served, from its access log
    with_user: int = 0  # of those, requests that carried credentials
    lines: list = field(default_factory=list)  # djauth's log lines

    def __str__(self):
        return (
            f"{self.requests} HTTP requests ({self.with_user} with credentials), "
            f"{self.checks} djauth checks, {self.kdf} password hashes"
        )


def _grow(path, start, settle=0.2, timeout=5):
    """The text appended to `path` since byte `start`, once it stops growing
    (Apache writes its access log line just after the response)."""
    deadline = time.monotonic() + timeout
    size = path.stat().st_size
    while time.monotonic() < deadline:
        time.sleep(settle)
        now = path.stat().st_size
        if now == size:
            break
        size = now
    with open(path, "rb") as f:
        f.seek(start)
        return f.read().decode(errors="replace").splitlines()


ACCESS_LINE = re.compile(r'" (\d{3}) user=(\S+) ')


@contextmanager
def measure(daemon, server):
    """Counts djauth's checks and hashes, and Apache's requests, inside the block.

    djauth writes a check's line before it answers, so every request the
    block waited for is in its log."""
    counts = Counts()
    daemon_start, access_start = daemon.log.stat().st_size, server.access_log.stat().st_size
    yield counts
    counts.lines = _grow(daemon.log, daemon_start, settle=0)
    counts.checks = sum(1 for line in counts.lines if CHECK_LINE.search(line))
    counts.kdf = sum(1 for line in counts.lines if KDF_LINE.search(line))
    served = [ACCESS_LINE.search(line) for line in _grow(server.access_log, access_start)]
    counts.requests = sum(1 for m in served if m)
    counts.with_user = sum(1 for m in served if m and m.group(2) != "-")


class GuideDjauth(DjauthProcess):
    """`djauth serve` with examples/guides/djauth.toml (a socket and two FastCGI ports)."""

    def __init__(self, workdir, db):
        self.workdir = Path(workdir)
        self.socket = self.workdir / "djauth.sock"
        self.authn_port, self.rules_port = free_port(), free_port()
        super().__init__(
            self.workdir / "djauth.toml",
            self.workdir / "djauth.log",
            [self.authn_port, self.rules_port],
            [self.socket],
        )
        group = "nogroup" if as_root() else grp.getgrgid(os.getgid()).gr_name
        self.config.write_text(
            guide_text(
                "djauth.toml",
                {
                    "/srv/mysite/db.sqlite3": db,
                    "/run/djauth/djauth.sock": self.socket,
                    '"www-data"': f'"{group}"',
                    "127.0.0.1:9501": f"127.0.0.1:{self.authn_port}",
                    "127.0.0.1:9502": f"127.0.0.1:{self.rules_port}",
                },
            )
        )


@pytest.fixture(scope="session")
def daemon(workdir, django_users):
    d = GuideDjauth(workdir, workdir / "db.sqlite3")
    watch_log("djauth log", d.log)
    d.start(log_filter=DJAUTH_LOG)
    yield d
    d.stop()


MEDIA_FILES = {
    "photo.txt": "media:photo\n",
    "docs/index.html": "media:docs index\n",
    "docs/sub/file.txt": "media:docs/sub/file\n",
    "reports/index.html": "media:reports index\n",
    "reports/q1.csv": "quarter,revenue\nq1,42\n",
}
SVN_FILES = {
    "README.txt": "The project.\n",
    **{f"src/module{i}.c": f"int module{i}(void) {{ return {i}; }}\n" for i in range(8)},
    "docs/notes.txt": "notes\n",
}
SVN_FIRST_MESSAGE = "Initial import"
DAV_FILES = {"readme.txt": "dav:readme\n", "folder/inside.txt": "dav:inside\n"}


def make_svn_repo(path, scratch):
    """A repository with SVN_FILES in revision 1, writable by Apache's children."""
    subprocess.run(["svnadmin", "create", str(path)], check=True, capture_output=True)
    write_tree(scratch, SVN_FILES)
    subprocess.run(
        ["svn", "import", "--non-interactive", "-q", "-m", SVN_FIRST_MESSAGE, str(scratch), f"file://{path}"],
        check=True,
        capture_output=True,
    )
    give_to_apache(path)


@dataclass
class Server:
    """One private Apache serving the three guides' configurations for one door."""

    door: str
    port: int
    media: Path
    repo: Path
    share: Path
    access_log: Path

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture(scope="session", params=DOORS)
def server(request, workdir, daemon):
    door = request.param
    for tool in ["curl", "svn", "svnadmin"]:
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} not found: install the Debian packages curl and subversion (scripts/test does)")
    base = workdir / door
    root = base / "apache"
    root.mkdir(parents=True)
    for d in (base, root):
        d.chmod(0o755)
    docs = base / "htdocs"
    write_tree(docs, {"index.html": "front page\n"})
    media = base / "media"
    write_tree(media, MEDIA_FILES)
    repo = base / "svn" / "project"
    repo.parent.mkdir()
    repo.parent.chmod(0o755)
    make_svn_repo(repo, base / "svn-import")
    share = base / "dav" / "share"
    write_tree(share, DAV_FILES)
    give_to_apache(share)
    lockdir = root / "davlock"
    lockdir.mkdir()
    give_to_apache(lockdir)
    empty = root / "none.conf"
    empty.write_text("")
    paths = {
        "/srv/mysite/media": media,
        "/srv/svn/project": repo,
        "/srv/dav/share": share,
        "/run/djauth/djauth.sock": daemon.socket,
        "127.0.0.1:9501": f"127.0.0.1:{daemon.authn_port}",
        "127.0.0.1:9502": f"127.0.0.1:{daemon.rules_port}",
    }
    apache = private_apache(
        root,
        docs,
        (HERE / "jobs-modules.conf.in").read_text()
        + (f'LoadModule djauth_module "{mod_djauth_so()}"\n' if door == "module" else "")
        + "".join(f"\n# --- {name}\n" + guide_text(name, paths) for name in guide_files(door)),
        title=f"apache ({door})",
        DJAUTH_PORT=daemon.rules_port,
        EXAMPLE_CONF=empty,
        DAV_LOCK_DB=lockdir / "DAVLock",
    )
    apache.start()
    yield Server(door, apache.port, media, repo, share, root / "access.log")
    apache.stop()


def guide_files(door):
    """The Apache configurations of the three guides for one door."""
    return [f"{job}-{door}.conf" for job in ("media", "svn", "webdav")]


# --- clients -------------------------------------------------------------------

STATUS_MARK = "\n@@status="


@dataclass
class Reply:
    status: int
    headers: dict
    body: str


def curl(server, method, path, user=None, password=None, data=None, headers=()):
    """One request with curl; credentials are sent pre-emptively (Basic)."""
    args = ["curl", "-sS", "--max-time", "60", "-D", "-", "-X", method, "-w", STATUS_MARK + "%{http_code}"]
    if user is not None:
        args += ["-u", f"{user}:{password if password is not None else user + '-pw'}"]
    if data is not None:
        args += ["--data-binary", "@-", "-H", "Content-Type: application/octet-stream"]
    for h in headers:
        args += ["-H", h]
    proc = subprocess.run(args + [server.url(path)], input=(data or "").encode(), capture_output=True, timeout=90)
    assert proc.returncode == 0, f"curl {method} {path}: {proc.stderr.decode(errors='replace')}"
    out, status = proc.stdout.decode(errors="replace").rsplit(STATUS_MARK, 1)
    head, _, body = out.partition("\r\n\r\n")
    fields = {}
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return Reply(int(status), fields, body)


class Svn:
    """The real svn client with its own configuration directory and no stored passwords."""

    def __init__(self, workdir):
        self.config_dir = Path(workdir) / "svn-config"
        self.config_dir.mkdir(exist_ok=True)
        (self.config_dir / "config").write_text("[auth]\npassword-stores =\n")
        (self.config_dir / "servers").write_text("[global]\nhttp-timeout = 60\n")

    def __call__(self, *args, user=None, password=None, cwd=None):
        cmd = ["svn", "--non-interactive", "--no-auth-cache", "--config-dir", str(self.config_dir)]
        if user is not None:
            cmd += ["--username", user, "--password", password if password is not None else f"{user}-pw"]
        return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, timeout=300, cwd=cwd)


@pytest.fixture(scope="session")
def svn(workdir):
    return Svn(workdir)


def record(line):
    """Keep an observed value for the end-of-run summary."""
    SUMMARY.append(line)


def pytest_terminal_summary(terminalreporter):
    if SUMMARY:
        terminalreporter.section("djauth checks and password hashes observed")
        for line in SUMMARY:
            terminalreporter.write_line(line)

