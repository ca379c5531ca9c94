"""A private Apache 2.4 built from examples/apache/private-httpd.conf.in, as
the suites behind Apache (e2e, jobs, external, databases) start it."""

import http.client
import os
import re
import subprocess
from pathlib import Path

import pytest

from support.djauth import REPO, mod_djauth_so
from support.procs import free_port, stop_pid, tail, wait_ready
from support.scratch import watch_log

PRIVATE_HTTPD_CONF = REPO / "examples" / "apache" / "private-httpd.conf.in"
FCGI_CONF = REPO / "examples" / "apache" / "djauth-fcgi.conf"
MODULE_CONF = REPO / "examples" / "apache" / "djauth-module.conf"
APACHE_MODULES = Path("/usr/lib/apache2/modules")


def apache_binary():
    """apache2 (or $APACHE2), failing the run when it or mod_authnz_fcgi is missing."""
    path = Path(os.environ.get("APACHE2", "/usr/sbin/apache2"))
    if not os.access(path, os.X_OK) or not (APACHE_MODULES / "mod_authnz_fcgi.so").exists():
        pytest.fail(
            f"Apache 2.4 with mod_authnz_fcgi not found ({path}, {APACHE_MODULES}): "
            "install the Debian package apache2 (scripts/test does)",
            pytrace=False,
        )
    return path


class Apache:
    """A private Apache 2.4 (own ServerRoot, loopback port) in the foreground."""

    def __init__(self, binary, root, conf, port, log):
        self.binary, self.root, self.conf, self.port, self.log = binary, root, conf, port, log
        self.proc = None

    def start(self, timeout=30):
        """Checks the configuration (apache2 -t), starts Apache and waits until it answers."""
        # As root, the config switches the children to nobody/nogroup.
        args = [str(self.binary), "-f", str(self.conf)] + (["-DDJAUTH_AS_ROOT"] if os.geteuid() == 0 else [])
        check = subprocess.run(args + ["-t"], capture_output=True, text=True)
        if check.returncode != 0:
            pytest.fail(f"apache2 -t rejected {self.conf}:\n{check.stdout}{check.stderr}", pytrace=False)
        with open(self.root / "apache.stderr", "ab") as err:
            self.proc = subprocess.Popen(
                args + ["-DFOREGROUND"],
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
            )
        problem = wait_ready(self.proc, self.answers, timeout)
        if problem:
            pytest.fail(
                f"apache2 {problem} at start on 127.0.0.1:{self.port}:\n"
                f"{tail(self.root / 'apache.stderr')}\n{tail(self.log)}",
                pytrace=False,
            )

    def answers(self):
        """True when Apache answers a GET / on its port."""
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("GET", "/")
            conn.getresponse().read()
            conn.close()
            return True
        except OSError:
            return False

    def stop(self):
        """Stops Apache by its PID."""
        stop_pid(self.proc, timeout=20)


def fill(template, values):
    """`template` with each @KEY@ replaced by values[KEY]; no marker may be left
    outside comments."""
    for key, value in values.items():
        template = template.replace(f"@{key}@", str(value))
    directives = "\n".join(line for line in template.splitlines() if not line.lstrip().startswith("#"))
    leftover = re.findall(r"@[A-Z_]+@", directives)
    assert not leftover, f"unfilled placeholders: {leftover}"
    return template


def private_apache(root, docs, extra="", title="apache", **values):
    """An Apache, not started yet, on a free loopback port with ServerRoot
    `root` (made here) and DocumentRoot `docs`: private-httpd.conf.in plus
    `extra`, with `values` filling their other @NAME@ markers (DJAUTH_PORT;
    EXAMPLE_CONF is examples/apache/djauth-fcgi.conf unless given). Its error
    and access logs are shown under `title` when a test fails."""
    binary = apache_binary()
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    port = free_port()
    conf = root / "httpd.conf"
    conf.write_text(
        fill(
            PRIVATE_HTTPD_CONF.read_text() + "\n" + extra,
            {
                "SERVER_ROOT": root,
                "HTTP_PORT": port,
                "MODULES": APACHE_MODULES,
                "DOC_ROOT": docs,
                "EXAMPLE_CONF": FCGI_CONF,
                **values,
            },
        )
    )
    watch_log(f"{title} error.log", root / "error.log")
    watch_log(f"{title} access.log", root / "access.log")
    return Apache(binary, root, conf, port, root / "error.log")


def djauth_module_conf(socket):
    """The lines that load mod_djauth and include examples/apache/djauth-module.conf
    unchanged, asking the djauth daemon at `socket`."""
    return (
        f'Define DJAUTH_MODULE "{mod_djauth_so()}"\nDefine DJAUTH_SOCKET "{socket}"\n'
        f'Include "{MODULE_CONF}"\n'
    )


def write_pages(docs, dirs, slash=False):
    """DOCS/DIR/index.html for each of `dirs` ("" is DOCS itself), saying
    "page:/DIR" ("page:/DIR/" with `slash`), readable by Apache's children."""
    Path(docs).mkdir(parents=True, exist_ok=True)
    Path(docs).chmod(0o755)
    for sub in dirs:
        d = Path(docs) / sub
        d.mkdir(parents=True, exist_ok=True)
        d.chmod(0o755)
        page = d / "index.html"
        page.write_text(f"page:/{sub}{'/' if slash and sub else ''}\n")
        page.chmod(0o644)
