"""A private certificate authority and a server certificate, made with the
openssl command line, for the database servers' TLS tests."""

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass
class TlsFiles:
    """PEM files: the CA's certificate, and a server certificate it signed with its key."""

    ca: Path
    cert: Path
    key: Path


def _openssl(*args, cwd):
    proc = subprocess.run(["openssl", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(map(str, args))} failed: {proc.stderr.strip()}")


def make_tls_files(directory, ca_name="djauth test CA", hosts=("127.0.0.1", "localhost")):
    """A new CA (P-256) and a server certificate for `hosts` (IP addresses
    and DNS names), signed by it, in `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (directory / n for n in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", f"/CN={ca_name}",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             cwd=directory)
    _openssl("req", "-new", *ec, "-keyout", key, "-out", csr, "-subj", f"/CN={hosts[0]}", cwd=directory)
    san = ",".join(("IP:" if h.replace(".", "").isdigit() else "DNS:") + h for h in hosts)
    extensions = directory / "server.ext"
    extensions.write_text(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                          "keyUsage=critical,digitalSignature\n")
    _openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
             "-days", "2", "-extfile", extensions, cwd=directory)
    key.chmod(0o600)
    return TlsFiles(ca=ca, cert=cert, key=key)
