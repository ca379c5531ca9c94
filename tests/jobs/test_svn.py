"""Job 2: Subversion (mod_dav_svn) by Django permission (docs/guides/subversion.md,
examples/guides/svn-{module,fcgi}.conf), with the real svn client.

svn.view_repo (or svn.commit_repo) lets a user check out, update and read
the log; only svn.commit_repo lets them commit. Permissions come from the
user, from a group (svn-committers), or from being an active superuser.
A user without the permission gets 403 (AuthzSendForbiddenOnFailure On), so
svn stops at once instead of asking for other credentials.
"""

import itertools
import subprocess

import pytest

from conftest import SVN_FILES, SVN_FIRST_MESSAGE, curl, measure, record

REPO_PATH = "/svn/project"
_edits = itertools.count(1)


def repo_url(server):
    return server.url(REPO_PATH)


def youngest(server):
    """The repository's head revision, read on disk (svnlook), not through Apache."""
    out = subprocess.run(["svnlook", "youngest", str(server.repo)], capture_output=True, text=True, check=True)
    return int(out.stdout)


def author(server, revision):
    out = subprocess.run(
        ["svnlook", "author", "-r", str(revision), str(server.repo)], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def checkout(svn, server, user, wc):
    result = svn("checkout", repo_url(server), wc, user=user)
    assert result.returncode == 0, (user, result.stderr)
    for rel, text in SVN_FILES.items():
        # Commits of other tests append to README.txt.
        assert (wc / rel).read_text().startswith(text), rel
    return wc


def commit_change(svn, wc, user):
    """Edit a file and commit; returns svn's result."""
    target = wc / "README.txt"
    target.write_text(target.read_text() + f"edit {next(_edits)} by {user}\n")
    return svn("commit", "-m", f"change by {user}", wc, user=user)


def assert_refused(result, *codes):
    assert result.returncode != 0, result.stdout
    assert any(code in result.stderr for code in codes), result.stderr


def test_reader_checks_out_updates_and_reads_the_log(svn, server, tmp_path):
    wc = checkout(svn, server, "reader", tmp_path / "wc")
    update = svn("update", wc, user="reader")
    assert update.returncode == 0, update.stderr
    assert f"At revision {youngest(server)}." in update.stdout
    log = svn("log", repo_url(server), user="reader")
    assert log.returncode == 0, log.stderr
    assert SVN_FIRST_MESSAGE in log.stdout


def test_reader_cannot_commit(svn, server, tmp_path):
    wc = checkout(svn, server, "reader", tmp_path / "wc")
    before = youngest(server)
    result = commit_change(svn, wc, "reader")
    # E175013: "Access to '...' forbidden": a 403, not a credentials loop (E215004).
    assert_refused(result, "E175013", "403 Forbidden")
    assert "E215004" not in result.stderr
    assert youngest(server) == before


@pytest.mark.parametrize(
    "user",
    [
        "committer",  # svn.commit_repo given to the user (and nothing else)
        "grace",  # through the group svn-committers
        "root",  # an active superuser has every permission
    ],
)
def test_committers_commit(svn, server, tmp_path, user):
    wc = checkout(svn, server, user, tmp_path / "wc")
    before = youngest(server)
    result = commit_change(svn, wc, user)
    assert result.returncode == 0, result.stderr
    assert f"Committed revision {before + 1}." in result.stdout
    assert youngest(server) == before + 1
    # mod_dav_svn records the Apache user, the stored Django username, as author.
    assert author(server, before + 1) == user
    # The new revision is visible to a reader.
    log = svn("log", "-r", "HEAD", repo_url(server), user="reader")
    assert f"change by {user}" in log.stdout


def test_inactive_user_is_refused(svn, server, tmp_path):
    # ingrid is inactive but still holds both permissions (and the group).
    result = svn("checkout", repo_url(server), tmp_path / "wc", user="ingrid")
    assert_refused(result, "E170013", "E215004", "authorization failed", "Authentication failed")
    assert not (tmp_path / "wc" / "README.txt").exists()
    assert curl(server, "PROPFIND", REPO_PATH + "/", "ingrid", headers=["Depth: 0"]).status == 401


def test_wrong_password_is_refused(svn, server, tmp_path):
    result = svn("checkout", repo_url(server), tmp_path / "wc", user="reader", password="wrong")
    assert_refused(result, "E170013", "E215004", "authorization failed", "Authentication failed")
    assert not (tmp_path / "wc" / "README.txt").exists()


def test_anonymous_gets_nothing(svn, server, tmp_path):
    result = svn("checkout", repo_url(server), tmp_path / "wc")
    assert_refused(result, "E170013", "E215004", "authorization failed", "Authentication failed")
    assert not (tmp_path / "wc" / "README.txt").exists()
    for method in ["OPTIONS", "PROPFIND", "GET", "REPORT", "POST"]:
        reply = curl(server, method, REPO_PATH + "/")
        assert reply.status == 401, (method, reply)
        assert "README" not in reply.body


def test_user_without_permission_gets_403(svn, server, tmp_path):
    # nora is active with a right password, but has neither permission.
    result = svn("checkout", repo_url(server), tmp_path / "wc", user="nora")
    assert_refused(result, "E175013", "403 Forbidden")
    assert "E215004" not in result.stderr
    assert curl(server, "PROPFIND", REPO_PATH + "/", "nora", headers=["Depth: 0"]).status == 403
    assert curl(server, "GET", REPO_PATH + "/README.txt", "nora").status == 403


def test_reader_write_methods_get_403(server):
    # What a commit starts with (HTTPv2: POST .../!svn/me), and other writes.
    for method in ["POST", "PUT", "DELETE", "MKCOL", "PROPPATCH", "LOCK"]:
        reply = curl(server, method, REPO_PATH + "/README.txt", "reader")
        assert reply.status == 403, (method, reply)
    assert curl(server, "GET", REPO_PATH + "/README.txt", "reader").body.startswith(SVN_FILES["README.txt"])


def test_checks_per_operation_and_one_password_hash_per_user(svn, server, daemon, tmp_path):
    """Counted in djauth's own log: every question it answered, every hash it ran.

    The two users have Django's real default hash (PBKDF2, 1,000,000
    iterations) and are used by no other test: the first request of each
    runs the hash, every later one is answered from the cache."""
    reader, committer = f"slowreader-{server.door}", f"slowcommitter-{server.door}"
    wc = tmp_path / "wc"
    counts = {}
    with measure(daemon, server) as counts["checkout"]:
        checkout(svn, server, reader, wc)
    with measure(daemon, server) as counts["update"]:
        assert svn("update", wc, user=reader).returncode == 0
    with measure(daemon, server) as counts["log"]:
        assert SVN_FIRST_MESSAGE in svn("log", repo_url(server), user=reader).stdout
    with measure(daemon, server) as counts["commit refused (reader)"]:
        assert_refused(commit_change(svn, wc, reader), "E175013", "403 Forbidden")
    wc2 = tmp_path / "wc2"
    with measure(daemon, server) as counts["checkout (committer)"]:
        checkout(svn, server, committer, wc2)
    with measure(daemon, server) as counts["commit (committer)"]:
        assert commit_change(svn, wc2, committer).returncode == 0
    for op, c in counts.items():
        record(f"{server.door}: svn {op} ({len(SVN_FILES)} files): {c}")
    # Each user's password was hashed once: on their first request.
    assert counts["checkout"].kdf == 1, counts["checkout"].lines
    assert counts["checkout (committer)"].kdf == 1, counts["checkout (committer)"].lines
    for op in ["update", "log", "commit refused (reader)", "commit (committer)"]:
        assert counts[op].kdf == 0, (op, counts[op].lines)
    # svn sends its credentials with every request after the first 401;
    # a checkout fetches each file with its own GET. mod_djauth may repeat a
    # recent grant without asking djauth, but the first request must ask.
    assert counts["checkout"].with_user >= len(SVN_FILES)
    assert counts["checkout"].checks >= 1
    for op, c in counts.items():
        assert c.with_user >= 1, op
        if server.door == "fcgi":
            # mod_authnz_fcgi asks for every request at least twice: the
            # password on one port, then the rule on the other (and again for
            # the sub-requests mod_dav_svn makes while committing).
            assert c.checks >= 2 * c.with_user, (op, c)
