"""Job 1: Apache serves Django's media from disk, only to active Django users,
and /media/reports/ only to the group "analysts" (docs/guides/media.md,
examples/guides/media-{module,fcgi}.conf), through mod_djauth and through
mod_authnz_fcgi.
"""

import pytest

from conftest import MEDIA_FILES, curl, measure, record


def assert_served(server, path, user, rel):
    reply = curl(server, "GET", path, user)
    assert reply.status == 200, (server.door, path, user, reply)
    assert reply.body == MEDIA_FILES[rel]
    assert reply.headers.get("x-django-user") == user
    return reply


def assert_challenged(reply):
    assert reply.status == 401, reply
    assert reply.headers["www-authenticate"].startswith("Basic realm="), reply


def test_active_user_gets_a_file(server):
    assert_served(server, "/media/photo.txt", "mia", "photo.txt")


def test_file_in_a_subdirectory(server):
    assert_served(server, "/media/docs/sub/file.txt", "mia", "docs/sub/file.txt")


@pytest.mark.parametrize(
    "user,password",
    [
        (None, None),  # no credentials
        ("mia", "wrong"),  # wrong password
        ("mia", ""),
        ("ivan", "ivan-pw"),  # inactive (and an analyst)
        ("ghost", "ghost-pw"),  # unknown to Django
        ("Mia", "mia-pw"),  # usernames are case-sensitive, as in Django
    ],
)
def test_refused_users_get_the_challenge(server, user, password):
    for path in ["/media/photo.txt", "/media/docs/sub/file.txt", "/media/docs/", "/media/reports/q1.csv"]:
        reply = curl(server, "GET", path, user, password)
        assert_challenged(reply)
        assert "media:" not in reply.body


def test_directory_url_serves_its_index_with_one_password_hash(server, daemon):
    user = f"slowmedia-{server.door}"  # Django's default PBKDF2 cost, used by no other test
    with measure(daemon, server) as first:
        assert_served(server, "/media/docs/", user, "docs/index.html")
    with measure(daemon, server) as again:
        assert_served(server, "/media/docs/", user, "docs/index.html")
    record(f"{server.door}: GET /media/docs/ (DirectoryIndex), first: {first}; again: {again}")
    assert first.requests == again.requests == 1
    # One check, not two: Apache reuses the authentication for mod_dir's
    # internal lookup of index.html; the password is hashed once.
    assert first.checks == 1, first.lines
    assert first.kdf == 1, first.lines
    assert again.kdf == 0, again.lines
    assert again.checks <= first.checks


def test_reports_only_for_analysts(server):
    assert_served(server, "/media/reports/q1.csv", "ana", "reports/q1.csv")
    assert_served(server, "/media/reports/", "ana", "reports/index.html")
    # An analyst also sees the rest of the media.
    assert_served(server, "/media/photo.txt", "ana", "photo.txt")
    for path in ["/media/reports/q1.csv", "/media/reports/"]:
        # mia is an active user, but not an analyst: the rule refuses her.
        reply = curl(server, "GET", path, "mia")
        assert_challenged(reply)
        assert "quarter" not in reply.body and "reports index" not in reply.body
