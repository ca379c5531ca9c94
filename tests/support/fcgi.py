"""A minimal FastCGI client that asks djauth what Apache's mod_authnz_fcgi asks.

One request per connection, as mod_authnz_fcgi does: BEGIN_REQUEST (role
AUTHORIZER = 2, flags 0), the PARAMS stream, an empty PARAMS record, an empty
STDIN record; then STDOUT/STDERR records are read until END_REQUEST, and the
CGI `Status:` header of the STDOUT stream is the answer (no header = 200).
Names and values are bytes and are sent exactly as given.
"""

import socket
import struct

VERSION = 1
BEGIN_REQUEST, ABORT_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = 1, 2, 3, 4, 5, 6, 7
ROLE_AUTHORIZER = 2
REQUEST_ID = 1
MAX_CONTENT = 65535


class FastcgiError(RuntimeError):
    pass


def record(kind, content=b"", request_id=REQUEST_ID):
    padding = -len(content) % 8
    return struct.pack(">BBHHBx", VERSION, kind, request_id, len(content), padding) + content + b"\0" * padding


def _length(n):
    return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)


def encode_pairs(pairs):
    out = bytearray()
    for name, value in pairs:
        name = name.encode() if isinstance(name, str) else name
        value = value.encode() if isinstance(value, str) else value
        out += _length(len(name)) + _length(len(value)) + name + value
    return bytes(out)


def build_request(params):
    """The bytes of one authorizer request carrying `params` (a dict or pairs)."""
    pairs = encode_pairs(params.items() if isinstance(params, dict) else params)
    out = record(BEGIN_REQUEST, struct.pack(">HB5x", ROLE_AUTHORIZER, 0))
    for start in range(0, len(pairs), MAX_CONTENT):
        out += record(PARAMS, pairs[start:start + MAX_CONTENT])
    return out + record(PARAMS) + record(STDIN)


class Response:
    def __init__(self, status, headers, stdout, stderr, app_status):
        self.status, self.headers, self.stdout, self.stderr, self.app_status = (
            status, headers, stdout, stderr, app_status)

    def header(self, name):
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def __repr__(self):
        return f"<fcgi.Response {self.status} {self.headers!r}>"


def parse_cgi(stdout):
    """(status, [(name, value bytes)]) from a CGI response head."""
    head = stdout.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in stdout else stdout.split(b"\n\n", 1)[0]
    status, headers = 200, []
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
        if not line:
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            raise FastcgiError(f"malformed CGI header line {line!r}")
        name, value = name.decode("latin-1").strip(), value.strip()
        if name.lower() == "status":
            status = int(value.split()[0])
        headers.append((name, value))
    return status, headers


def _read_exact(sock, n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise FastcgiError(f"connection closed after {len(data)} of {n} bytes")
        data += chunk
    return bytes(data)


def request(host, port, params, timeout=60):
    """Send one authorizer request; returns the parsed Response."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(build_request(params))
        stdout, stderr = bytearray(), bytearray()
        while True:
            version, kind, request_id, length, padding = struct.unpack(">BBHHBx", _read_exact(sock, 8))
            if version != VERSION:
                raise FastcgiError(f"FastCGI version {version} in reply")
            content = _read_exact(sock, length + padding)[:length]
            if kind == STDOUT:
                stdout += content
            elif kind == STDERR:
                stderr += content
            elif kind == END_REQUEST:
                app_status, protocol_status = struct.unpack(">IB3x", content)
                if protocol_status != 0:
                    raise FastcgiError(f"END_REQUEST with protocol status {protocol_status}")
                break
            else:
                raise FastcgiError(f"unexpected record type {kind} in reply")
    status, headers = parse_cgi(bytes(stdout))
    return Response(status, headers, bytes(stdout), bytes(stderr), app_status)


def authenticate(port, user, password, require=None, site=None, host="127.0.0.1", timeout=60):
    """What mod_authnz_fcgi sends for `AuthBasicProvider`: the Basic credentials
    as bytes, plus the location's DJANGO_REQUIRE / DJANGO_SITE when given."""
    params = [
        (b"FCGI_APACHE_ROLE", b"AUTHENTICATOR"),
        (b"REMOTE_ADDR", b"127.0.0.1"),
        (b"REMOTE_USER", user),
        (b"REMOTE_PASSWD", password),
    ]
    if require is not None:
        params.append((b"DJANGO_REQUIRE", require.encode() if isinstance(require, str) else require))
    if site is not None:
        params.append((b"DJANGO_SITE", site.encode() if isinstance(site, str) else site))
    return request(host, port, params, timeout=timeout)
