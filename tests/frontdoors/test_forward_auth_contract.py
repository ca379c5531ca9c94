"""The HTTP contract Traefik's forwardAuth and Caddy's forward_auth use,
checked directly against djauth with the addresses, URIs and header lists
of examples/traefik/dynamic.yml and examples/caddy/Caddyfile, beside the
real proxies in test_traefik.py and test_caddy.py.

Both send the check as GET with the client's headers (Authorization
included) plus X-Forwarded-Method/-Uri/-Host/-Proto/-For; on 2xx they copy
the listed response headers onto the request, otherwise they hand djauth's
answer (status, headers, body) to the client."""

import http.client
import re

from conftest import CHALLENGE, REPO, basic, example_values, get

TRAEFIK = REPO / "examples" / "traefik" / "dynamic.yml"
CADDYFILE = REPO / "examples" / "caddy" / "Caddyfile"
EXAMPLE_ADDRESS = "127.0.0.1:9100"


def traefik_middlewares():
    """(path and query, authResponseHeaders) of each forwardAuth middleware."""
    text = TRAEFIK.read_text()
    blocks = re.findall(
        r'address: "http://([^/"]+)(/[^"]*)"\n(?:[ \t]+(?:#|\w+: )[^\n]*\n)*?[ \t]+authResponseHeaders:\n((?:\s+- \S+\n)+)', text
    )
    assert blocks, "no forwardAuth middleware found in the Traefik example"
    result = []
    for address, target, headers in blocks:
        assert address == EXAMPLE_ADDRESS
        result.append((target, re.findall(r"- (\S+)", headers)))
    assert len(result) == len(re.findall(r"^\s*forwardAuth:", text, re.M))
    return result


def caddy_checks():
    """(uri, copy_headers) of each forward_auth block."""
    text = CADDYFILE.read_text()
    blocks = re.findall(r'forward_auth (\S+) \{\s+uri "?([^"\n]+)"?\s+copy_headers ([^\n]+)\n', text)
    assert blocks and len(blocks) == len(re.findall(r"^\s*forward_auth ", text, re.M))
    for address, _, _ in blocks:
        assert address == EXAMPLE_ADDRESS
    return [(uri, headers.split()) for _, uri, headers in blocks]


def forwarded(method="GET", uri="/private/report.pdf", client="203.0.113.50"):
    return [
        ("X-Forwarded-Method", method),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "files.example.org"),
        ("X-Forwarded-Uri", uri),
        ("X-Forwarded-For", client),
    ]


def check_contract(djauth, target, copied):
    granted = djauth.get(target, [("Authorization", basic("alice", "alice-pw"))] + forwarded())
    assert granted.status == 200, target
    expected = {"X-Django-User": "alice", "X-Django-User-Id": "1", "X-Django-Groups": "secret-agents"}
    for name in copied:
        assert granted.header(name) == expected[name], (target, name)
    # Non-2xx answers go to the client as they are: the challenge must be there.
    missing = djauth.get(target, forwarded())
    assert missing.status == 401
    assert missing.all("WWW-Authenticate") == [CHALLENGE]
    assert missing.header("X-Django-User") is None
    wrong = djauth.get(target, [("Authorization", basic("alice", "bad"))] + forwarded())
    assert (wrong.status, wrong.all("WWW-Authenticate")) == (401, [CHALLENGE])


def test_traefik_forward_auth_contract(djauth):
    middlewares = traefik_middlewares()
    assert len(middlewares) == 2
    for target, headers in middlewares:
        assert set(headers) == {"X-Django-User", "X-Django-User-Id", "X-Django-Groups"}
        check_contract(djauth, target, headers)
    # django-secret-agents refuses a user outside the group with 403.
    target = next(t for t, _ in middlewares if "secret-agents" in t)
    assert djauth.get(target, [("Authorization", basic("bob", "bob-pw"))] + forwarded()).status == 403


def test_caddy_forward_auth_contract(djauth):
    checks = caddy_checks()
    assert len(checks) == 2
    for uri, headers in checks:
        check_contract(djauth, uri, headers)
    uri = next(u for u, _ in checks if "secret-agents" in u)
    assert djauth.get(uri, [("Authorization", basic("erin", "erin-pw"))] + forwarded()).status == 403


def test_original_request_and_client_are_logged_from_forwarded_headers(djauth):
    djauth.get("/auth/mysite", [("Authorization", basic("bob", "not-bob"))] + forwarded("PROPFIND", "/dav/x", "198.51.100.23"))
    line = next(line for line in reversed(djauth.log_text().splitlines()) if 'user="bob"' in line)
    assert 'request{method="PROPFIND" uri="/dav/x" host="files.example.org"}: ' in line
    assert line.endswith('denied door="http" site="mysite" user="bob" client="198.51.100.23" reason="wrong-password"')


def test_preserved_methods_and_a_pooled_connection(djauth):
    # Traefik's preserveRequestMethod sends the client's method; Go and Caddy
    # keep connections to the auth server open.
    conn = http.client.HTTPConnection("127.0.0.1", djauth.port, timeout=30)
    try:
        for method in ["GET", "HEAD", "POST", "PUT", "DELETE", "GET"]:
            conn.putrequest(method, "/auth/mysite", skip_accept_encoding=True)
            conn.putheader("Authorization", basic("alice", "alice-pw"))
            conn.putheader("Content-Length", "0")
            conn.endheaders()
            resp = conn.getresponse()
            resp.read()
            assert (method, resp.status, resp.getheader("X-Django-User")) == (method, 200, "alice")
        reply = get(djauth.port, "/auth/mysite", [("Authorization", basic("alice", "alice-pw"))], connection=conn)
        assert reply.status == 200
    finally:
        conn.close()


def test_only_the_listed_headers_identify_the_user(djauth):
    # A client that sends identity headers itself gains nothing: djauth answers
    # from the credentials alone, and the proxies replace the listed headers.
    reply = djauth.get("/auth/mysite", [("X-Django-User", "frank"), ("X-Forwarded-User", "frank")] + forwarded())
    assert reply.status == 401
    granted = djauth.get("/auth/mysite", [("Authorization", basic("bob", "bob-pw")), ("X-Django-User", "frank")])
    assert granted.header("X-Django-User") == "bob"
