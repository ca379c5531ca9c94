"""djauth reaches PostgreSQL and MariaDB over TLS, and checks who it talks to.

A private CA (tests/support/tlsfiles.py) signs the certificate of a private
PostgreSQL and a private MariaDB that serve TLS on their loopback port. djauth's
SELECT-only role connects with the URL options docs/configuration.md gives:
`?sslmode=verify-full&sslrootcert=CA` (PostgreSQL) and
`?ssl-mode=verify_identity&ssl-ca=CA` (MariaDB).

* With the right CA, alice is granted and a wrong password refused, and the
  session really is encrypted: PostgreSQL's pg_stat_ssl says so for djauth's
  pooled session; on MariaDB the role is made to REQUIRE SSL, and the same
  URL with TLS turned off is refused by the server.
* With a CA that did not sign the server's certificate, djauth will not use
  the database: `djauth serve` exits at start and `djauth check-user` fails,
  both naming the certificate; a server that comes back with such a
  certificate while djauth runs gets 500 for every request (never a grant or
  a 401) until its trusted certificate is back.
"""

import subprocess
from urllib.parse import quote

import pytest

from support import fcgi
from support.dbservers import MariadbServer, PostgresServer, started_server
from support.djauth import Djauth, djauth_binary, site_table
from support.procs import free_port
from support.tlsfiles import make_tls_files

from conftest import djauth_user

USERS = {"users": [{"username": "alice", "password": "alice-pw"}]}
SERVERS = {"postgres": PostgresServer, "mysql": MariadbServer}


@pytest.fixture(scope="module")
def cas(workdir):
    """The CA that signed the servers' certificate, and another one."""
    return make_tls_files(workdir / "tls-ca"), make_tls_files(workdir / "tls-other", ca_name="another CA")


@pytest.fixture(scope="module", params=sorted(SERVERS))
def tls_db(request, workdir, cas, django_database):
    """A Django database on a private server that serves TLS with the first CA's certificate."""
    backend = request.param
    server = started_server(SERVERS[backend], root=workdir / f"{backend}-tls", tls=cas[0])
    db = django_database(backend, "tlssite", USERS, server=server)
    if backend == "mysql":
        server.sql(None, "ALTER USER 'djauth_ro'@'%' REQUIRE SSL; FLUSH PRIVILEGES;")
    yield db
    server.cleanup()


def with_tls(db, ca, mode=None):
    """The read-only URL with certificate verification against `ca` (or the TLS mode `mode`)."""
    if db.backend == "postgres":
        return f"{db.readonly}?sslmode={mode or 'verify-full'}&sslrootcert={quote(str(ca))}"
    return f"{db.readonly}?ssl-mode={mode or 'verify_identity'}&ssl-ca={quote(str(ca))}"


def check_user(url):
    return subprocess.run([str(djauth_binary()), "check-user", "--database", url, "alice"],
                          capture_output=True, text=True, timeout=60)


def test_verified_tls_grants_and_is_encrypted(tls_db, cas, workdir, summary):
    url = with_tls(tls_db, cas[0].ca)
    site = {"database": url, "cache_freshness": 0}
    with Djauth(workdir, {"site": site}, name=f"tls-{tls_db.backend}") as daemon:
        resp = fcgi.authenticate(daemon.port, b"alice", b"alice-pw")
        assert resp.status == 200, resp
        assert djauth_user(resp) == "alice"
        assert fcgi.authenticate(daemon.port, b"alice", b"wrong").status == 401
        if tls_db.backend == "postgres":
            # djauth's pooled session is still open: the server's view of it.
            sessions = tls_db.sql("SELECT s.ssl, s.version FROM pg_stat_ssl s JOIN pg_stat_activity a "
                                  "USING (pid) WHERE a.usename = 'djauth_ro'").split()
            assert sessions and all(line.startswith("t|TLSv1.") for line in sessions), sessions
            evidence = f"pg_stat_ssl {sessions[0]}"
        else:
            plain = check_user(with_tls(tls_db, cas[0].ca, mode="disabled"))
            assert plain.returncode != 0 and "Access denied" in plain.stderr, plain
            evidence = "role REQUIRE SSL; the same URL with ssl-mode=disabled is refused"

        # The server comes back with a certificate from another CA: djauth's
        # sessions break, its new ones fail verification, and every answer is
        # an error until the trusted certificate is back.
        server = tls_db.server
        try:
            server.tls = cas[1]
            server.restart()
            for password in (b"alice-pw", b"wrong"):
                assert fcgi.authenticate(daemon.port, b"alice", password).status == 500, password
        finally:
            server.tls = cas[0]
            server.restart()
        assert fcgi.authenticate(daemon.port, b"alice", b"alice-pw").status == 200
        assert "UnknownIssuer" in daemon.log.read_text()
    summary.append(f"TLS {tls_db.backend}: verified against the private CA, alice 200, wrong 401; {evidence}; "
                   "server restarted with an untrusted certificate -> 500, trusted again -> 200")


def test_an_untrusted_certificate_is_refused(tls_db, cas, workdir, summary):
    url = with_tls(tls_db, cas[1].ca)
    checked = check_user(url)
    assert checked.returncode != 0, checked
    assert "certificate" in checked.stderr.lower() and "alice" not in checked.stdout, checked

    config = workdir / f"tls-untrusted-{tls_db.backend}.toml"
    config.write_text(site_table("site", {"database": url}) + f'\n[[fastcgi]]\nlisten = "127.0.0.1:{free_port()}"\n')
    proc = subprocess.run([str(djauth_binary()), "serve", "--config", str(config)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0, proc
    assert "certificate" in proc.stderr.lower(), proc.stderr
    summary.append(f"TLS {tls_db.backend}: another CA -> check-user exit {checked.returncode}, "
                   f"serve exit {proc.returncode}: {proc.stderr.strip().splitlines()[-1][-160:]}")
