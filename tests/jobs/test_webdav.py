"""Job 3: a WebDAV share (mod_dav, mod_dav_fs) by Django group
(docs/guides/webdav.md, examples/guides/webdav-{module,fcgi}.conf).

"editors" read and write, "viewers" only read (a write is 403, not a new
password prompt), everyone else is refused. With curl for every method, and
with the real DAV client cadaver (Debian's package).
"""

import os
import re
import shutil
import subprocess

import pytest

from conftest import DAV_FILES, curl

WRITES = ["PUT", "MKCOL", "MOVE", "COPY", "DELETE", "PROPPATCH", "LOCK"]


def propfind(server, path, user, password=None):
    return curl(server, "PROPFIND", path, user, password, headers=["Depth: 1"])


def destination(server, path):
    return f"Destination: {server.url(path)}"


def test_editor_reads_and_writes(server):
    share, user = server.share, "edith"
    listing = propfind(server, "/dav/", user)
    assert listing.status == 207, listing
    assert "readme.txt" in listing.body and "folder" in listing.body
    got = curl(server, "GET", "/dav/readme.txt", user)
    assert (got.status, got.body) == (200, DAV_FILES["readme.txt"])

    assert curl(server, "PUT", "/dav/notes.txt", user, data="first\n").status == 201
    assert (share / "notes.txt").read_text() == "first\n"
    assert curl(server, "PUT", "/dav/notes.txt", user, data="second\n").status == 204
    assert (share / "notes.txt").read_text() == "second\n"

    assert curl(server, "MKCOL", "/dav/reports/", user).status == 201
    assert (share / "reports").is_dir()

    moved = curl(server, "MOVE", "/dav/notes.txt", user, headers=[destination(server, "/dav/reports/notes.txt")])
    assert moved.status == 201, moved
    assert not (share / "notes.txt").exists()
    assert (share / "reports" / "notes.txt").read_text() == "second\n"

    copied = curl(server, "COPY", "/dav/reports/notes.txt", user, headers=[destination(server, "/dav/copy.txt")])
    assert copied.status == 201, copied
    assert (share / "copy.txt").read_text() == "second\n"

    assert curl(server, "DELETE", "/dav/copy.txt", user).status == 204
    assert curl(server, "DELETE", "/dav/reports/", user).status == 204
    assert not (share / "copy.txt").exists() and not (share / "reports").exists()


def snapshot(root):
    return sorted((str(p.relative_to(root)), p.read_text() if p.is_file() else None) for p in root.rglob("*"))


def write_attempts(server, user, password=None):
    """Every kind of write on existing and new names; returns {method: status}."""
    args = {
        "PUT": ("/dav/readme.txt", {"data": "overwritten\n"}),
        "MKCOL": ("/dav/new-folder/", {}),
        "MOVE": ("/dav/readme.txt", {"headers": [destination(server, "/dav/moved.txt")]}),
        "COPY": ("/dav/readme.txt", {"headers": [destination(server, "/dav/copied.txt")]}),
        "DELETE": ("/dav/folder/inside.txt", {}),
        "PROPPATCH": ("/dav/readme.txt", {}),
        "LOCK": ("/dav/readme.txt", {}),
    }
    return {m: curl(server, m, path, user, password, **kw).status for m, (path, kw) in args.items()}


def test_viewer_reads_but_every_write_is_forbidden(server):
    listing = propfind(server, "/dav/", "victor")
    assert listing.status == 207, listing
    assert "readme.txt" in listing.body
    got = curl(server, "GET", "/dav/folder/inside.txt", "victor")
    assert (got.status, got.body) == (200, DAV_FILES["folder/inside.txt"])
    before = snapshot(server.share)
    assert write_attempts(server, "victor") == {m: 403 for m in WRITES}
    assert snapshot(server.share) == before


def test_user_in_neither_group_is_forbidden(server):
    # nora has the right password but is in neither group: 403 for everything.
    before = snapshot(server.share)
    assert propfind(server, "/dav/", "nora").status == 403
    assert curl(server, "GET", "/dav/readme.txt", "nora").status == 403
    assert write_attempts(server, "nora") == {m: 403 for m in WRITES}
    assert snapshot(server.share) == before


@pytest.mark.parametrize(
    "user,password",
    [
        (None, None),  # anonymous
        ("edith", "wrong"),  # an editor with a wrong password
        ("ines", "ines-pw"),  # an inactive editor
        ("ghost", "ghost-pw"),  # unknown to Django
    ],
)
def test_refused_logins_get_401(server, user, password):
    before = snapshot(server.share)
    reply = propfind(server, "/dav/", user, password)
    assert reply.status == 401
    assert reply.headers["www-authenticate"].startswith("Basic realm=")
    assert "readme.txt" not in reply.body
    assert curl(server, "GET", "/dav/readme.txt", user, password).status == 401
    assert write_attempts(server, user, password) == {m: 401 for m in WRITES}
    assert snapshot(server.share) == before


# --- cadaver ---------------------------------------------------------------------


def cadaver(server, user, commands, home):
    """Runs cadaver with `commands` on stdin; credentials from ~/.netrc, as cadaver documents."""
    if shutil.which("cadaver") is None:
        pytest.fail("cadaver not found: install the Debian package cadaver (scripts/test does)")
    home.mkdir(exist_ok=True)
    netrc = home / ".netrc"
    netrc.write_text(f"machine 127.0.0.1\nlogin {user}\npassword {user}-pw\n")
    netrc.chmod(0o600)
    proc = subprocess.run(
        ["cadaver", server.url("/dav/")],
        input="\n".join(commands) + "\nquit\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=home,
        env=dict(os.environ, HOME=str(home)),
    )
    return proc.stdout + proc.stderr


def outcome(out, action):
    """What cadaver said about `action` ("Uploading x to `/dav/y'"): "succeeded." or "failed: ..."."""
    m = re.search(re.escape(action) + r":[\s\[.]*(succeeded\.|failed:[^\n]*)", out)
    assert m, f"cadaver said nothing about {action!r}:\n{out}"
    return m.group(1)


def test_cadaver_editor_session(server, tmp_path):
    (tmp_path / "local.txt").write_text("from cadaver\n")
    out = cadaver(
        server,
        "edith",
        [
            "put local.txt cad.txt",
            "mkcol caddir",
            "move cad.txt caddir/cad.txt",
            "ls caddir",
            "get caddir/cad.txt back.txt",
            "copy caddir/cad.txt cad-copy.txt",
            "delete cad-copy.txt",
        ],
        tmp_path,
    )
    for action in [
        "Uploading local.txt to `/dav/cad.txt'",
        "Creating `caddir'",
        "Moving `/dav/cad.txt' to `/dav/caddir/cad.txt'",
        "Listing collection `/dav/caddir/'",
        "Downloading `/dav/caddir/cad.txt' to back.txt",
        "Copying `/dav/caddir/cad.txt' to `/dav/cad-copy.txt'",
        "Deleting `cad-copy.txt'",
    ]:
        assert outcome(out, action) == "succeeded.", (action, out)
    assert "cad.txt" in out.split("Listing collection", 1)[1], out
    assert (tmp_path / "back.txt").read_text() == "from cadaver\n"
    assert (server.share / "caddir" / "cad.txt").read_text() == "from cadaver\n"
    assert not (server.share / "cad.txt").exists()
    assert not (server.share / "cad-copy.txt").exists()


def test_cadaver_viewer_session(server, tmp_path):
    (tmp_path / "local.txt").write_text("from a viewer\n")
    before = snapshot(server.share)
    out = cadaver(server, "victor", ["ls", "get readme.txt copy.txt", "put local.txt viewer.txt", "mkcol vdir"], tmp_path)
    assert outcome(out, "Listing collection `/dav/'") == "succeeded.", out
    assert "readme.txt" in out.split("Listing collection", 1)[1], out
    assert outcome(out, "Downloading `/dav/readme.txt' to copy.txt") == "succeeded.", out
    assert (tmp_path / "copy.txt").read_text() == DAV_FILES["readme.txt"]
    assert outcome(out, "Uploading local.txt to `/dav/viewer.txt'").startswith("failed:"), out
    assert "403 Forbidden" in out, out
    assert outcome(out, "Creating `vdir'").startswith("failed:"), out
    assert snapshot(server.share) == before
