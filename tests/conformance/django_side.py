#!/usr/bin/env python3
"""Django's side of the conformance test: build a fixture database with real
Django, then answer every triple with Django's own code.

Run with the Python of a Django venv (.venv-django42, .venv-django52):

    django_side.py --backend sqlite|postgres|mysql --database PATH-or-ADMIN-URL \
                   --fixture default|custom|custom-iexact --workdir DIR --out answers.json

1. `settings.configure` (for `custom`, an app `accounts` with
   `EmailUser(AbstractBaseUser, PermissionsMixin)` is generated in DIR and
   migrated with makemigrations + migrate; for `custom-iexact` its manager
   looks users up with `email__iexact`, as some projects do (case C08b),
   which djauth mirrors with `username_match = "iexact"`), `migrate`, then the users, groups
   and permissions of fixture_data.py. Hashes are made by Django's own hasher
   classes: most with cheap parameters (`encode(..., iterations=1000)`, or
   subclasses with lower costs used only to *produce* the string: the stored
   string carries its parameters, so Django and djauth verify it with the
   built-in classes), a few at Django's default cost, legacy formats too.
2. For every triple of fixture_data.triples_for(), Django's answer:
   `django.contrib.auth.handlers.modwsgi.check_password(environ, user, pw)`
   (True -> authenticated; False/None -> 401; exception -> Django would 500),
   then the requirement: `groups_for_user` for group:, `user.has_perm` for
   perm:, `is_active and is_staff` for staff, `is_active and is_superuser` for
   superuser, stored username equality for user:. HTTP-level answer: 200 when
   authenticated and the requirement holds, 403 when it does not, else 401.
3. djauth's expected answer where it deliberately differs (docs/compatibility.md):
   NFKC usernames, exact username match under case-insensitive collations,
   never 500 on a stored hash Django cannot parse, bcrypt's first 72 bytes,
   and a NUL in the username (PostgreSQL raises) as an unknown user.

Credential bytes are decoded as djauth decodes them (UTF-8, else Latin-1,
each field on its own), the text Django's login form would hand to Django.

Two things are changed in the oracle's Django, neither of which can change an
answer: (a) a correct password on an outdated hash does not write the upgraded
hash back (the `setter` of `AbstractBaseUser.check_password` is dropped; djauth
never writes, and the database must stay what djauth reads; the script checks
that no password column changed), and (b) the hashers' *default* cost
attributes are lowered, which only changes the cost of the dummy hash for
unknown users and of `harden_runtime`: every verification reads its
parameters from the stored string.
"""

import argparse
import base64
import hashlib
import json
import sys
import unicodedata
import warnings
from pathlib import Path
from urllib.parse import unquote, urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import fixture_data as fd  # noqa: E402

warnings.filterwarnings("ignore")  # deprecation warnings of legacy hashers and the crypt module

ACCOUNTS_MODELS = '''\
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models


# custom-iexact: the project's manager finds users case-insensitively (C08b).
IEXACT = {iexact}


class EmailUserManager(BaseUserManager):
    def get_by_natural_key(self, username):
        if IEXACT:
            return self.get(**{{self.model.USERNAME_FIELD + "__iexact": username}})
        return super().get_by_natural_key(username)


class EmailUser(AbstractBaseUser, PermissionsMixin):
    """Case C08a: e-mail as USERNAME_FIELD, no is_active column (always active)."""

    email = models.EmailField(unique=True)
    is_staff = models.BooleanField(default=False)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    objects = EmailUserManager()
'''

LEGACY_CLASSES = [
    "MD5PasswordHasher",
    "BCryptPasswordHasher",
    "SHA1PasswordHasher",
    "UnsaltedSHA1PasswordHasher",
    "UnsaltedMD5PasswordHasher",
    "CryptPasswordHasher",
]


def database_settings(backend, database):
    if backend == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": database}
    url = urlsplit(database)
    common = {
        "NAME": url.path.lstrip("/"),
        "USER": unquote(url.username or ""),
        "PASSWORD": unquote(url.password or ""),
        "HOST": url.hostname,
        "PORT": str(url.port),
        "CONN_MAX_AGE": None,
    }
    if backend == "postgres":
        return {"ENGINE": "django.db.backends.postgresql", **common}
    if backend == "mysql":
        import pymysql

        pymysql.install_as_MySQLdb()
        return {"ENGINE": "django.db.backends.mysql", "OPTIONS": {"charset": "utf8mb4"}, **common}
    raise SystemExit(f"unknown backend {backend}")


def crypt_available():
    try:
        import crypt  # noqa: F401  (gone in Python 3.13)
    except ImportError:
        return False
    return True


def site_hashers():
    """Each site's PASSWORD_HASHERS, as (Django's list, djauth's list):

    * default: Django's default list;
    * legacy: MD5 first (a cheap preferred hasher, as in many projects' test
      settings), the default list, then every legacy class this Django still ships;
    * removed: MD5, the default list, bcrypt, and the project's own copies of the
      classes Django removed (project_legacy_hashers.py), which djauth's
      configuration names by algorithm.
    """
    from django.conf import global_settings
    from django.contrib.auth import hashers

    import project_legacy_hashers as project

    builtin = "django.contrib.auth.hashers."
    default = list(global_settings.PASSWORD_HASHERS)
    shipped = [name for name in LEGACY_CLASSES if hasattr(hashers, name)]
    if not crypt_available():
        shipped = [name for name in shipped if name != "CryptPasswordHasher"]
    legacy = [builtin + shipped[0]] + default + [builtin + name for name in shipped[1:]]
    own = ["SHA1PasswordHasher", "UnsaltedSHA1PasswordHasher", "UnsaltedMD5PasswordHasher"]
    own += ["CryptPasswordHasher"] if crypt_available() else []
    removed_head = [builtin + "MD5PasswordHasher"] + default + [builtin + "BCryptPasswordHasher"]
    return {
        "default": (default, default),
        "legacy": (legacy, legacy),
        "removed": (
            removed_head + [f"project_legacy_hashers.{name}" for name in own],
            removed_head + [getattr(project, name).algorithm for name in own],
        ),
    }


def configure(args):
    import django
    from django.conf import global_settings, settings

    apps = ["django.contrib.contenttypes", "django.contrib.auth"]
    extra = {}
    if args.fixture.startswith("custom"):
        app = Path(args.workdir) / "accounts"
        (app / "migrations").mkdir(parents=True, exist_ok=True)
        (app / "__init__.py").write_text("")
        (app / "migrations" / "__init__.py").write_text("")
        (app / "models.py").write_text(ACCOUNTS_MODELS.format(iexact=args.fixture == "custom-iexact"))
        sys.path.insert(0, str(Path(args.workdir)))
        apps.append("accounts")
        extra["AUTH_USER_MODEL"] = "accounts.EmailUser"
    settings.configure(
        DEBUG=False,
        SECRET_KEY="djauth-conformance-not-secret",
        USE_TZ=True,
        INSTALLED_APPS=apps,
        DATABASES={"default": database_settings(args.backend, args.database)},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",  # startproject's value since 3.2
        PASSWORD_HASHERS=list(global_settings.PASSWORD_HASHERS),
        **extra,
    )
    django.setup()


# --- hashes ------------------------------------------------------------------


def make_hash(kind, password):
    """The stored string for `password` in format `kind`, made by Django's hasher classes."""
    from django.contrib.auth import hashers as h

    salt = h.get_random_string(22)

    def cheap(cls, **attrs):
        return type(f"Cheap{cls.__name__}", (cls,), attrs)()

    if kind == "pbkdf2_sha256":
        return h.PBKDF2PasswordHasher().encode(password, salt, iterations=1000)
    if kind == "pbkdf2_sha256_1":
        return h.PBKDF2PasswordHasher().encode(password, salt, iterations=1)
    if kind == "pbkdf2_sha1":
        return h.PBKDF2SHA1PasswordHasher().encode(password, salt, iterations=1000)
    if kind in ("argon2id", "argon2i", "argon2d", "argon2i_v16"):
        import argon2

        if kind == "argon2id":
            return cheap(h.Argon2PasswordHasher, time_cost=1, memory_cost=64, parallelism=1).encode(password, salt)
        variant = argon2.low_level.Type.I if kind.startswith("argon2i") else argon2.low_level.Type.D
        version = 0x10 if kind == "argon2i_v16" else 0x13
        phc = argon2.low_level.hash_secret(
            password.encode(), salt.encode(), time_cost=1, memory_cost=64, parallelism=1, hash_len=32,
            type=variant, version=version,
        ).decode()
        if version == 0x10:
            phc = phc.replace("$v=16$", "$")  # the pre-1.3 shape: no v= field
        return "argon2" + phc
    if kind in ("bcrypt_sha256", "bcrypt_sha256_2a"):
        hasher = cheap(h.BCryptSHA256PasswordHasher, rounds=4)
        encoded = hasher.encode(password, hasher.salt())
        return encoded.replace("$2b$", "$2a$") if kind.endswith("_2a") else encoded
    if kind == "bcrypt":
        hasher = cheap(h.BCryptPasswordHasher, rounds=4)
        return hasher.encode(password, hasher.salt())
    if kind == "scrypt":
        return h.ScryptPasswordHasher().encode(password, salt, n=1024, r=8, p=1)
    if kind == "md5":
        return h.MD5PasswordHasher().encode(password, salt)
    if kind == "sha1":  # SHA1PasswordHasher's format (the class is gone in 5.1)
        return f"sha1${salt}${hashlib.sha1((salt + password).encode()).hexdigest()}"
    if kind == "unsalted_md5":
        return hashlib.md5(password.encode()).hexdigest()
    if kind == "unsalted_md5_prefixed":
        return "md5$$" + hashlib.md5(password.encode()).hexdigest()
    if kind == "unsalted_sha1":
        return "sha1$$" + hashlib.sha1(password.encode()).hexdigest()
    if kind == "crypt":
        try:
            import crypt
        except ImportError:
            return None
        return "crypt$$" + crypt.crypt(password, "ab")
    if kind.startswith("default_"):
        algorithm = kind[len("default_"):]
        return h.make_password(password, hasher=algorithm)  # Django's default cost for this version
    if kind == "unusable":
        return h.make_password(None)
    if kind == "empty":
        return ""
    if kind == "malformed_pbkdf2":
        return "pbkdf2_sha256$abc$salt$hash"
    if kind == "malformed_pbkdf2_short":
        return "pbkdf2_sha256$1000$salt"
    if kind == "unknown_algorithm":
        return "nonsense$1000$salt$hash"
    raise ValueError(f"unknown hash kind {kind}")


# --- building ----------------------------------------------------------------


def build(args):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command

    if args.fixture.startswith("custom"):
        call_command("makemigrations", "accounts", verbosity=0, interactive=False)
    call_command("migrate", verbosity=0, interactive=False)

    repo, _ = ContentType.objects.get_or_create(app_label="svn", model="repo")
    for codename, name in fd.SVN_PERMISSIONS:
        Permission.objects.create(content_type=repo, codename=codename, name=name)

    def perm(dotted):
        app_label, codename = dotted.split(".", 1)
        return Permission.objects.get(content_type__app_label=app_label, codename=codename)

    groups = {}
    for name, perms in fd.groups_for(args.backend).items():
        groups[name] = Group.objects.create(name=name)
        groups[name].permissions.add(*[perm(p) for p in perms])

    User = get_user_model()
    custom = args.fixture.startswith("custom")
    stored = {}
    for spec in fd.users_for(args.fixture, args.backend):
        login = fd.login_of(spec.name, args.fixture)
        assert unicodedata.is_normalized("NFC", login), login
        encoded = make_hash(spec.hash, fd.password_of(spec) or "")
        if encoded is None:
            continue
        fields = {User.USERNAME_FIELD: login, "password": encoded, "is_staff": spec.staff,
                  "is_superuser": spec.superuser}
        if not custom:
            fields["is_active"] = spec.active
            fields["email"] = f"{spec.name}@example.org"
        user = User(**fields)
        user.save()
        user.groups.add(*[groups[g] for g in spec.groups if g in groups])
        user.user_permissions.add(*[perm(p) for p in spec.perms])
        stored[spec.name] = encoded
    return stored


# --- the oracle --------------------------------------------------------------


def patch_oracle():
    """See the module docstring: no hash write-back; low default costs (answers unchanged)."""
    from django.contrib.auth import base_user, hashers

    original = hashers.check_password

    def check_password_without_setter(password, encoded, setter=None, preferred="default"):
        return original(password, encoded, None, preferred)

    base_user.check_password = check_password_without_setter
    hashers.PBKDF2PasswordHasher.iterations = 1000
    hashers.PBKDF2SHA1PasswordHasher.iterations = 1000
    hashers.Argon2PasswordHasher.time_cost = 1
    hashers.Argon2PasswordHasher.memory_cost = 64
    hashers.Argon2PasswordHasher.parallelism = 1
    hashers.BCryptSHA256PasswordHasher.rounds = 4
    hashers.ScryptPasswordHasher.work_factor = 2**10
    hashers.ScryptPasswordHasher.parallelism = 1


def decode(raw):
    """djauth's decoding of one credential field: UTF-8, else Latin-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class Answer:
    """One HTTP-level answer: 200, 401, 403 or 500 (Django raised)."""

    def __init__(self, status, detail, error=None):
        self.status, self.detail, self.error = status, detail, error


def django_answer(username, password, requirement, exact_username=False):
    """Django's answer for text credentials. With exact_username, a user whose
    stored username is not exactly `username` (found through the collation) is
    "not found", as djauth decides."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.handlers import modwsgi

    User = get_user_model()
    if exact_username:
        try:
            found = User._default_manager.get_by_natural_key(username)
        except User.DoesNotExist:
            found = None
        except Exception:  # noqa: BLE001  (errors are answered below, by Django itself)
            found = None
        if found is not None and found.get_username() != username:
            return Answer(401, f"stored username {found.get_username()!r} is not exactly the typed one")
    try:
        ok = modwsgi.check_password({}, username, password)
    except Exception as e:  # noqa: BLE001
        return Answer(500, f"check_password raised {type(e).__name__}: {e}", e)
    if ok is None:
        return Answer(401, "not found or inactive")
    if ok is False:
        return Answer(401, "wrong password or unusable hash")
    try:
        user = User._default_manager.get_by_natural_key(username)
        met = []
        for item in requirement:
            kind = item[0]
            if kind == "valid-user":
                met.append(True)
            elif kind == "user":
                met.append(user.get_username() == item[1])
            elif kind == "group":
                met.append(item[1].encode("utf-8") in modwsgi.groups_for_user({}, username))
            elif kind == "perm":
                met.append(user.has_perm(item[1]))
            elif kind == "staff":
                met.append(bool(user.is_active and user.is_staff))
            elif kind == "superuser":
                met.append(bool(user.is_active and user.is_superuser))
            else:
                raise ValueError(kind)
    except Exception as e:  # noqa: BLE001
        return Answer(500, f"requirement check raised {type(e).__name__}: {e}", e)
    return Answer(200 if any(met) else 403, "authenticated; requirement " + ("met" if any(met) else "not met"))


def iexact_answer(username, password, requirement):
    """djauth's `username_match = "iexact"`: the one stored name equal to the
    typed one ignoring case (Unicode lowercase), answered as Django answers
    for that stored name; none -> not found, several -> refused. Returns the
    answer and the deviation kind that would explain a difference from Django's
    own `email__iexact` lookup."""
    import accounts.models
    from django.contrib.auth import get_user_model

    User = get_user_model()
    names = User._default_manager.values_list(User.USERNAME_FIELD, flat=True)
    matches = [name for name in names if name.lower() == username.lower()]
    try:
        found = User._default_manager.get_by_natural_key(username).get_username()
    except User.MultipleObjectsReturned:
        found = "several"
    except Exception:  # noqa: BLE001  (not found, or a database error)
        found = None
    if "\0" in username:
        # No stored username holds a NUL (PostgreSQL cannot even compare one): not found
        return Answer(401, "NUL in the username: no such user"), "nul-username"
    if len(matches) > 1:
        return Answer(401, f"{len(matches)} users match ignoring case: refused"), "iexact-ambiguous"
    if found not in (None, "several") and found.lower() != username.lower():
        kind = "iexact-collation"  # Django's lookup matched beyond case: accents, trailing spaces
    else:
        kind = "iexact-case-folding"
    if not matches:
        return Answer(401, "no user matches ignoring case"), kind
    accounts.models.IEXACT = False
    try:
        return django_answer(matches[0], password, requirement), kind
    finally:
        accounts.models.IEXACT = True


def is_bcrypt_length_error(error):
    return isinstance(error, ValueError) and "72 bytes" in str(error)


def expectations(triple, fixture):
    """(Django's answer, djauth's documented answer, deviation kinds)."""
    username, password = decode(triple.user), decode(triple.password)
    strict = django_answer(username, password, triple.requirement)
    kinds = []
    normal = unicodedata.normalize("NFKC", username)
    current = strict
    if normal != username:
        current = django_answer(normal, password, triple.requirement)
        if current.status != strict.status:
            kinds.append("nfkc-username")
    if fixture == "custom-iexact":
        exact, kind = iexact_answer(normal, password, triple.requirement)
    else:
        exact, kind = django_answer(normal, password, triple.requirement, exact_username=True), "collation-username"
    if exact.status != current.status:
        kinds.append(kind)
    current = exact
    if current.status == 500:
        if is_bcrypt_length_error(current.error):
            # djauth compares the first 72 bytes, what the stored hash covers
            # (the fixture's long passwords are ASCII, so 72 bytes are 72 characters)
            first72 = password.encode("utf-8")[:72].decode("utf-8")
            current = django_answer(normal, first72, triple.requirement, exact_username=True)
            kinds.append("bcrypt-72-bytes")
        elif isinstance(current.error, (ValueError, TypeError)) and "check_password" in current.detail:
            current = Answer(401, "malformed stored hash: denied")
            kinds.append("malformed-hash")
        elif "\0" in normal and type(current.error).__name__ == "DataError":
            # PostgreSQL cannot store NUL in text, so no such user exists: "not found"
            current = Answer(401, "NUL in the username: no such user")
            kinds.append("nul-username")
    return strict, current, kinds


def snapshot_passwords():
    from django.contrib.auth import get_user_model

    User = get_user_model()
    return dict(User._default_manager.values_list("pk", "password"))


def oracle(args):
    from django.test.utils import override_settings

    patch_oracle()
    sites = site_hashers()
    before = snapshot_passwords()
    results = []
    for triple in fd.triples_for(args.fixture, args.backend):
        with override_settings(PASSWORD_HASHERS=sites[triple.site][0]):
            strict, expected, kinds = expectations(triple, args.fixture)
        results.append(
            {
                "label": triple.label,
                "user": base64.b64encode(triple.user).decode(),
                "password": base64.b64encode(triple.password).decode(),
                "require": fd.requirement_text(triple.requirement),
                "site": triple.site,
                "django": strict.status,
                "django_detail": strict.detail,
                "expected": expected.status,
                "expected_detail": expected.detail,
                "deviations": kinds,
            }
        )
    after = snapshot_passwords()
    if before != after:
        raise SystemExit("the oracle changed stored passwords: the database is no longer what djauth reads")
    return sites, results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "mysql"], required=True)
    parser.add_argument("--database", required=True, help="SQLite file path, or the admin URL")
    parser.add_argument("--fixture", choices=["default", "custom", "custom-iexact"], required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    configure(args)
    import django

    stored = build(args)
    sites, results = oracle(args)
    from django.contrib.auth import get_user_model

    User = get_user_model()
    Path(args.out).write_text(
        json.dumps(
            {
                "django_version": "%d.%d" % django.VERSION[:2],
                "django_release": django.get_version(),
                "backend": args.backend,
                "fixture": args.fixture,
                "user_model": User._meta.label,
                "username_field": User.USERNAME_FIELD,
                "user_table": User._meta.db_table,
                "sites": {site: lists[0] for site, lists in sites.items()},
                "djauth_sites": {site: lists[1] for site, lists in sites.items()},
                "hashes": stored,
                "triples": results,
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
