"""The conformance fixture: users, groups, permissions, requirements and the
(username bytes, password bytes, requirement) triples asked of Django and djauth.

Pure Python (no Django import): django_side.py uses it to write the database
and to compute Django's answers; the pytest side reads the result.

A user's "login" is what a client types: the username for `auth.User`, the
e-mail address for the custom `accounts.EmailUser` (USERNAME_FIELD = "email").
"""

import random
import unicodedata
from dataclasses import dataclass, field

# Group name -> permissions ("app_label.codename") granted to the group.
GROUPS = {
    "devs": ["svn.commit_repo"],
    "Devs": [],  # differs from "devs" only in case (not on MariaDB: its collation makes them one name)
    "secret agents": ["svn.view_repo"],
    "secret-agents": [],
    "développeurs": ["svn.view_repo"],
    "staff-team": ["auth.view_group"],
    "nobody-here": [],
}
CASE_ONLY_GROUPS = {"Devs"}

# The custom content type of the svn use case (C22): app_label "svn", model "repo".
SVN_PERMISSIONS = [("view_repo", "Can view repository"), ("commit_repo", "Can commit to repository")]


@dataclass
class UserSpec:
    name: str
    password: str | None  # None: no password a client could know (unusable, malformed, ...)
    hash: str  # a key of HASH_KINDS in django_side.py
    active: bool = True
    staff: bool = False
    superuser: bool = False
    groups: list = field(default_factory=list)
    perms: list = field(default_factory=list)  # direct user permissions
    heavy: bool = False  # ask every requirement of REQUIREMENTS for this user
    case_only: bool = False  # a name differing from another only in case (not on MariaDB)


PW = "pw-{}"  # default password pattern: pw-<name>

USERS = [
    # --- cheap hashes of every current hasher (the stored string carries the low cost)
    UserSpec("alice", PW, "pbkdf2_sha256", groups=["devs", "secret-agents"], heavy=True),
    UserSpec("Alice", PW, "pbkdf2_sha256", case_only=True),
    UserSpec("bob", PW, "pbkdf2_sha1"),
    UserSpec("carol", PW, "argon2id"),
    UserSpec("cyril", PW, "argon2i"),
    UserSpec("cora", PW, "argon2i_v16"),  # old argon2 without v= (version 0x10)
    UserSpec("dirk", PW, "argon2d"),
    UserSpec("brenda", PW, "bcrypt_sha256"),
    UserSpec("brent", PW, "bcrypt_sha256_2a"),
    UserSpec("sam", PW, "scrypt"),
    UserSpec("ole", "secret-42", "pbkdf2_sha256_1"),  # 1 iteration (C16)
    # --- legacy formats: verify only where the site lists the hasher
    UserSpec("bea", PW, "bcrypt"),
    UserSpec("long", "x" * 72, "bcrypt"),  # C13: the hash covers 72 bytes
    UserSpec("maud", "lètmein", "md5"),
    UserSpec("shay", "lètmein", "sha1"),
    UserSpec("umberto", "lètmein", "unsalted_md5"),
    UserSpec("umbra", "lètmein", "unsalted_md5_prefixed"),
    UserSpec("usha", "lètmein", "unsalted_sha1"),
    UserSpec("cristo", "lètmein", "crypt"),
    # --- Django's default cost (slow: few triples)
    UserSpec("slowpbkdf2", PW, "default_pbkdf2_sha256"),
    UserSpec("slowargon", PW, "default_argon2"),
    UserSpec("slowbcrypt", PW, "default_bcrypt_sha256"),
    UserSpec("slowscrypt", PW, "default_scrypt"),
    # --- no usable password
    UserSpec("una", None, "unusable"),
    UserSpec("emma", None, "empty"),
    UserSpec("mal", "pw-mal", "malformed_pbkdf2"),
    UserSpec("mali", "pw-mali", "malformed_pbkdf2_short"),
    UserSpec("nonce", "pw-nonce", "unknown_algorithm"),
    # --- flags and inactivity
    UserSpec("ina", PW, "pbkdf2_sha256", active=False, groups=["devs"]),
    UserSpec("stan", PW, "pbkdf2_sha256", active=False, staff=True),
    UserSpec("sue", PW, "pbkdf2_sha256", superuser=True, heavy=True),
    # --- case C22
    UserSpec("dana", PW, "pbkdf2_sha256", groups=["devs"], heavy=True),
    UserSpec("frank", PW, "pbkdf2_sha256", perms=["svn.commit_repo"], heavy=True),
    UserSpec("root", PW, "pbkdf2_sha256", staff=True, superuser=True, heavy=True),
    UserSpec("gina", PW, "pbkdf2_sha256", staff=True, groups=["staff-team"], heavy=True),
    UserSpec("hank", PW, "pbkdf2_sha256", active=False, staff=True, superuser=True, heavy=True),
    # --- groups with awkward names, view permission through a group
    UserSpec("erin", PW, "pbkdf2_sha256", groups=["secret agents"], heavy=True),
    UserSpec("ivy", PW, "pbkdf2_sha256", groups=["Devs"], heavy=True, case_only=True),
    UserSpec("léa", "pässwörd", "pbkdf2_sha256", groups=["développeurs"], perms=["svn.view_repo"], heavy=True),
    # --- non-ASCII names and passwords (stored NFC, as Django's forms store them)
    UserSpec("józef", "Pässwörd-123", "bcrypt_sha256"),
    UserSpec("zoë", "naïve-ñ-🔑", "pbkdf2_sha256"),
    UserSpec("测试用户", "密码-pw", "argon2id"),
    UserSpec("ßtraße", "Straße", "scrypt"),
]

# Requirements as structured lists (any of); `requirement_text` gives djauth's spelling.
REQUIREMENTS = [
    [("valid-user",)],
    [("user", "alice")],
    [("user", "ALICE")],
    [("user", "léa")],
    [("group", "devs")],
    [("group", "Devs")],
    [("group", "secret agents")],
    [("group", "secret-agents")],
    [("group", "développeurs")],
    [("group", "nobody-here")],
    [("group", "no-such-group")],
    [("perm", "svn.commit_repo")],
    [("perm", "svn.view_repo")],
    [("perm", "svn.no_such_perm")],
    [("perm", "SVN.commit_repo")],
    [("perm", "auth.view_group")],
    [("staff",)],
    [("superuser",)],
    [("group", "devs"), ("staff",)],
    [("user", "gina"), ("perm", "svn.commit_repo")],
    [("group", "secret agents"), ("superuser",)],
]


def login_of(name, fixture):
    """What the client types for user `name` in this fixture."""
    return name if fixture == "default" else f"{name}@example.org"  # custom models: the e-mail


def password_of(spec):
    return spec.password.format(spec.name) if spec.password is not None and "{}" in spec.password else spec.password


def users_for(fixture, backend):
    """The user specs this database holds."""
    out = []
    for spec in USERS:
        if spec.case_only and backend == "mysql":
            continue  # MariaDB's utf8mb4_general_ci: "Alice" and "alice" are one unique value
        out.append(spec)
    return out


def groups_for(backend):
    return {name: perms for name, perms in GROUPS.items() if not (backend == "mysql" and name in CASE_ONLY_GROUPS)}


def _quote(word):
    if any(c in word for c in ' "\\\t') or not word:
        return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return word


def requirement_text(requirement):
    """djauth's DJANGO_REQUIRE spelling of a structured requirement list."""
    words = []
    for item in requirement:
        if item[0] in ("valid-user", "staff", "superuser"):
            words.append(item[0])
        else:
            words.append(f"{item[0]}:{_quote(item[1])}")
    return " ".join(words)


def localise(requirement, fixture):
    """user: requirements name logins, which differ per fixture."""
    return [("user", login_of(item[1], fixture)) if item[0] == "user" else item for item in requirement]


@dataclass
class Triple:
    label: str
    user: bytes
    password: bytes
    requirement: list
    site: str  # a site of django_side.site_hashers(): "default", "legacy" or "removed"


def _b(text):
    return text.encode("utf-8")


def triples_for(fixture, backend, seed=20241203):
    """A few hundred triples, deterministic for a (fixture, backend)."""
    rng = random.Random(f"{seed}-{fixture}-{backend}")
    users = users_for(fixture, backend)
    reqs = [localise(r, fixture) for r in REQUIREMENTS]
    valid = [("valid-user",)]
    out = []

    def add(label, user, password, requirement=valid, site=None):
        if site is None:
            site = rng.choices(["default", "legacy", "removed"], [25, 45, 30])[0]
        out.append(Triple(label, user if isinstance(user, bytes) else _b(user),
                          password if isinstance(password, bytes) else _b(password), requirement, site))

    for spec in users:
        login = login_of(spec.name, fixture)
        right = password_of(spec) or "pw-" + spec.name
        slow = spec.hash.startswith("default_")
        add(f"{spec.name}/right/default-site", login, right, site="default")
        add(f"{spec.name}/wrong", login, right + "x", site="default" if slow else None)
        if slow:
            continue
        add(f"{spec.name}/right/legacy-site", login, right, site="legacy")
        add(f"{spec.name}/right/removed-site", login, right, site="removed")
        add(f"{spec.name}/empty-password", login, "")
        chosen = reqs if spec.heavy else rng.sample(reqs, 3)
        for requirement in chosen:
            add(f"{spec.name}/right/{requirement_text(requirement)}", login, right, requirement)
        if spec.heavy:
            # a wrong password never reaches the requirement
            add(f"{spec.name}/wrong/perm", login, right + "!", [("perm", "svn.commit_repo")])

    # --- usernames that are not (exactly) stored ones
    alice, józef = login_of("alice", fixture), login_of("józef", fixture)
    zoë, straße = login_of("zoë", fixture), login_of("ßtraße", fixture)
    for label, user, password in [
        ("unknown", login_of("nosuchuser", fixture), "pw-alice"),
        ("empty-username", "", "pw-alice"),
        ("upper-case", alice.upper(), "pw-alice"),
        ("capitalised", alice.capitalize(), "pw-alice"),
        ("title-case-of-lower-only", login_of("Dana", fixture), "pw-dana"),
        ("trailing-space", alice + " ", "pw-alice"),
        ("leading-space", " " + alice, "pw-alice"),
        ("nfd-username", unicodedata.normalize("NFD", józef), "Pässwörd-123"),
        ("fullwidth-username", "ａｌｉｃｅ" + alice[5:], "pw-alice"),
        ("accent-dropped", login_of("jozef", fixture), "Pässwörd-123"),
        ("upper-non-ascii", józef.upper(), "Pässwörd-123"),
        ("upper-diaeresis", zoë.upper(), "naïve-ñ-🔑"),
        ("upper-sharp-s", straße.upper(), "Straße"),
        ("long-username", "a" * 300, "pw-alice"),
    ]:
        add(f"{label}/{user[:40]!r}", user, password, site="legacy")
        add(f"{label}/{user[:40]!r}/default-site", user, password, site="default")
    # Latin-1 bytes (not UTF-8) for the name, the password, or both
    add("latin1-username", józef.encode("latin-1"), "Pässwörd-123")
    add("latin1-password", józef, "Pässwörd-123".encode("latin-1"))
    add("latin1-both", józef.encode("latin-1"), "Pässwörd-123".encode("latin-1"))
    add("nfd-password", józef, unicodedata.normalize("NFD", "Pässwörd-123"))
    add("nfd-password-zoe", login_of("zoë", fixture), unicodedata.normalize("NFD", "naïve-ñ-🔑"))
    add("invalid-utf8-password", alice, b"pw-alice\xff")
    add("nul-in-username", alice[:3] + "\0" + alice[3:], "pw-alice")
    add("nul-in-password", alice, "pw-alice\0")
    add("control-char-username", alice + "\x01", "pw-alice")
    # C13: plain bcrypt and the 72-byte limit
    long_login = login_of("long", fixture)
    for label, password in [("x72", "x" * 72), ("x73", "x" * 73), ("x72y", "x" * 72 + "y"),
                            ("x71", "x" * 71), ("y72x", "y" + "x" * 72)]:
        add(f"long/{label}", long_login, password, site="legacy")
    # user: with the stored vs typed spelling
    add("user-requirement-typed-upper", alice, "pw-alice", [("user", alice.upper())], site="legacy")
    return out
