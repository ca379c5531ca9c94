"""djauth gives Django's answers: every triple of fixture_data.py, asked of
real Django (django_side.py) and of the real djauth through FastCGI.

For each (Django version, backend, fixture) the run prints
`agree N / total M (deviations K: kinds...)`. A triple passes when djauth's
HTTP status equals Django's, or when it differs only as a deviation that
docs/ documents (django_side.py computes what djauth must answer then).
Anything else fails the test, with the exact triples.
"""

import base64
import collections
import functools
import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from support import fcgi
from support.djauth import REPO, Djauth

VERSIONS = ["4.2", "5.2"]
BACKENDS = ["sqlite", "postgres", "mysql"]
FIXTURES = ["default", "custom"]
# (version, backend, fixture): every combination, plus the case-insensitive
# manager (C08b) once per backend (the lookup is the project's code, not Django's).
RUNS = [(v, b, f) for v in VERSIONS for b in BACKENDS for f in FIXTURES] + [
    ("5.2", b, "custom-iexact") for b in BACKENDS
]
DOCS = REPO / "docs"

# Deviation kind -> (page of docs/, regular expression matching the words
# that document it). A deviation whose words are missing is a disagreement.
# The deliberate differences are on the compatibility page; those of an opt-in
# setting are documented with the setting.
DOCUMENTED = {
    "nfkc-username": ("compatibility.md", r"NFKC is applied to the incoming username"),
    "collation-username": ("compatibility.md", r"collation cannot widen the match"),
    "malformed-hash": ("compatibility.md", r"Malformed hash of a known algorithm"),
    "bcrypt-72-bytes": ("compatibility.md", r"bcrypt passwords longer than 72 bytes"),
    "nul-username": ("compatibility.md", r"\bNUL\b.*user ?name|user ?name.*\bNUL\b"),
    "iexact-ambiguous": ("configuration.md", r"if several rows match, the request is refused"),
    "iexact-collation": ("configuration.md", r"accents and spaces still count"),
}


@functools.cache
def documented(kind):
    if kind not in DOCUMENTED:
        return False
    page, pattern = DOCUMENTED[kind]
    return re.search(pattern, (DOCS / page).read_text(), re.I) is not None


def ask_djauth(port, triples, workers=4):
    def one(t):
        try:
            return fcgi.authenticate(port, base64.b64decode(t["user"]), base64.b64decode(t["password"]),
                                     require=t["require"], site=t["site"]).status
        except (OSError, fcgi.FastcgiError) as e:
            return f"error: {e}"

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, triples))


def describe(t, got):
    user, password = base64.b64decode(t["user"]), base64.b64decode(t["password"])
    return (f"  {t['label'][:60]}: user={user!r} password={password!r} require={t['require']!r} site={t['site']}"
            f" -> djauth {got}, Django {t['django']} ({t['django_detail']})"
            + (f", documented djauth answer {t['expected']} {t['deviations']}" if t["deviations"] else ""))


def compare(answers, statuses):
    agree, deviations, wrong = 0, collections.Counter(), []
    for t, got in zip(answers["triples"], statuses):
        if got == t["django"]:
            agree += 1
        elif got == t["expected"] and t["deviations"] and all(documented(k) for k in t["deviations"]):
            deviations.update(t["deviations"])
        else:
            wrong.append(describe(t, got))
    return agree, deviations, wrong


@pytest.mark.parametrize("version,backend,fixture", RUNS, ids=["-".join(run) for run in RUNS])
def test_djauth_gives_djangos_answers(version, backend, fixture, built_databases, workdir, summary):
    db = built_databases(version, backend, fixture)
    answers = db.answers
    name = f"dj{version.replace('.', '')}_{backend}_{fixture}"
    sites = {site: db.site_settings(site) for site in answers["sites"]}
    with Djauth(workdir, sites, name=name) as daemon:
        statuses = ask_djauth(daemon.port, answers["triples"])
    agree, deviations, wrong = compare(answers, statuses)
    total = len(answers["triples"])
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(deviations.items()))
    line = (f"Django {answers['django_release']:8} {backend:8} {fixture:13} agree {agree} / total {total}"
            f" (deviations {sum(deviations.values())}: {kinds or 'none'})"
            + (f"  UNEXPLAINED {len(wrong)}" if wrong else ""))
    summary.append(line)
    (workdir / f"{name}.results.json").write_text(
        json.dumps([dict(t, djauth=s) for t, s in zip(answers["triples"], statuses)], ensure_ascii=False, indent=1)
    )
    assert not wrong, f"{line}\n{len(wrong)} answers differ from Django without a documented reason:\n" + "\n".join(
        wrong[:40]
    )


# Case C22's right values (research: cases.md), which Django itself must give on
# the fixture: a check of the fixture, not of djauth.
C22 = {
    "perm:svn.commit_repo": {"dana": 200, "frank": 200, "root": 200, "gina": 403, "hank": 401},
    "staff": {"gina": 200, "root": 200, "dana": 403, "frank": 403, "hank": 401},
    "superuser": {"root": 200, "dana": 403, "frank": 403, "gina": 403, "hank": 401},
}


@pytest.mark.parametrize("version", VERSIONS)
def test_fixture_gives_case_c22_answers_in_django(version, built_databases):
    answers = built_databases(version, "sqlite", "default").answers
    django = {t["label"]: t["django"] for t in answers["triples"]}
    got = {req: {user: django.get(f"{user}/right/{req}") for user in want} for req, want in C22.items()}
    assert got == C22
