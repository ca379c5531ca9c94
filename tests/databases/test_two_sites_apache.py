"""One djauth serving two Django sites on two backends, through one Apache.

djauth has `[sites.blog]` on SQLite (a copy of the demo database, users in
examples/demo/README.md) and `[sites.shop]` on PostgreSQL (a database Django
made with other users), and one `[[fastcgi]]` listener. A private Apache (the
harness of tests/e2e: examples/apache/private-httpd.conf.in) serves the
documented examples/apache/djauth-two-sites.conf unchanged: /blog/ selects
the site with `SetEnvIf Request_URI "." DJANGO_SITE=blog`, /shop/ with
`DJANGO_SITE=shop` plus `DJANGO_REQUIRE=group:customers`.

Real HTTP requests: each site's users get in on their own location only;
`alice` exists in both sites with different passwords and each password
opens only its own site's location (DJANGO_USER_ID tells which database
answered); `carol` is inactive on the blog and active in the shop with the
same password; `tom` is a shop user outside `customers`.
"""

import pytest

from conftest import REPO
from e2e.conftest import Client
from support import fcgi
from support.apache import private_apache, write_pages
from support.djauth import Djauth, demo_db_copy

TWO_SITES_CONF = REPO / "examples" / "apache" / "djauth-two-sites.conf"

SHOP_USERS = [
    {"username": "sam", "password": "sam-pw", "groups": ["customers"]},
    {"username": "tom", "password": "tom-pw"},
    {"username": "alice", "password": "shop-alice-pw", "groups": ["customers"]},
    {"username": "carol", "password": "carol-pw", "groups": ["customers"]},  # inactive on the blog
]
BLOG_IDS = {"alice": 1, "bob": 2}  # examples/demo/README.md order (make_demo_db.py)


def header(resp, name):
    for key, value in resp.headers:
        if key.lower() == name.lower():
            return value.encode("latin-1").decode("utf-8")
    return None


@pytest.fixture(scope="module")
def two_sites(workdir, django_database):
    """(HTTP client, djauth) with Apache serving examples/apache/djauth-two-sites.conf."""
    blog = demo_db_copy(workdir / "blog.sqlite3")
    shop = django_database("postgres", "shop", {"groups": ["customers"], "users": SHOP_USERS})
    assert shop.ids["alice"] != BLOG_IDS["alice"]

    daemon = Djauth(workdir, {"blog": {"database": f"sqlite://{blog}"}, "shop": shop.site()}, name="two_sites")
    daemon.start()
    apache = None
    try:
        docs = workdir / "htdocs-two-sites"
        write_pages(docs, ["", "blog", "shop"], slash=True)
        apache = private_apache(
            workdir / "apache-two-sites",
            docs,
            title="apache (two sites)",
            DJAUTH_PORT=daemon.port,
            EXAMPLE_CONF=TWO_SITES_CONF,
        )
        apache.start()
        yield Client(apache.port), daemon, shop
    finally:
        if apache is not None:
            apache.stop()
        daemon.stop()


# (location, user, password, status, DJANGO_USER_ID: "blog" / "shop" for that site's id)
CASES = [
    # alice: one name, two accounts, two passwords
    ("/blog/", "alice", "alice-pw", 200, "blog"),
    ("/shop/", "alice", "alice-pw", 401, None),
    ("/shop/", "alice", "shop-alice-pw", 200, "shop"),
    ("/blog/", "alice", "shop-alice-pw", 401, None),
    # blog-only users
    ("/blog/", "bob", "bob-pw", 200, "blog"),
    ("/shop/", "bob", "bob-pw", 401, None),
    ("/blog/", "józef", "Pässwörd-123", 200, "blog"),
    # shop-only users
    ("/shop/", "sam", "sam-pw", 200, "shop"),
    ("/blog/", "sam", "sam-pw", 401, None),
    # the shop location's requirement: tom is a shop user outside "customers"
    ("/shop/", "tom", "tom-pw", 401, None),
    ("/blog/", "tom", "tom-pw", 401, None),
    # carol: inactive on the blog, active in the shop, same password
    ("/blog/", "carol", "carol-pw", 401, None),
    ("/shop/", "carol", "carol-pw", 200, "shop"),
]


def test_each_site_on_its_own_location(two_sites, summary):
    client, daemon, shop = two_sites
    observed = []
    for location, user, password, status, site in CASES:
        resp = client.get(location, user, password)
        observed.append(f"{location} {user}:{password} -> {resp.status}")
        assert resp.status == status, (location, user, password, resp)
        if status == 200:
            assert resp.body == f"page:{location}\n".encode()
            assert header(resp, "X-Django-User") == user
            want_id = BLOG_IDS.get(user) if site == "blog" else shop.ids[user]
            if want_id is not None:
                assert header(resp, "X-Django-User-Id") == str(want_id), (location, user)
    shop_groups = header(client.get("/shop/", "sam", "sam-pw"), "X-Django-Groups")
    assert shop_groups == "customers"
    summary.append("two sites via Apache: " + "; ".join(observed))


@pytest.mark.parametrize("location,realm", [("/blog/", "Blog"), ("/shop/", "Shop")])
def test_challenge_per_location(two_sites, location, realm):
    client, _, _ = two_sites
    resp = client.get(location)
    assert resp.status == 401
    assert header(resp, "WWW-Authenticate") == f'Basic realm="{realm}"'


def test_refusals_name_the_site_that_was_asked(two_sites):
    """djauth's log shows that the wrong password for alice on /shop/ was checked
    against the shop database, and the shop password on /blog/ against the blog's."""
    client, daemon, _ = two_sites
    assert client.get("/shop/", "alice", "alice-pw").status == 401
    assert client.get("/blog/", "alice", "shop-alice-pw").status == 401
    assert client.get("/blog/", "carol", "carol-pw").status == 401
    assert client.get("/shop/", "tom", "tom-pw").status == 401
    log = daemon.log.read_text()
    assert 'site="shop" user="alice" client="127.0.0.1" reason="wrong-password"' in log
    assert 'site="blog" user="alice" client="127.0.0.1" reason="wrong-password"' in log
    assert 'site="blog" user="carol" client="127.0.0.1" reason="inactive"' in log
    assert 'site="shop" user="tom" client="127.0.0.1" reason="requirement-not-met"' in log


def test_no_site_named_is_an_error_not_a_guess(two_sites):
    """What the README says: with several sites, a request without DJANGO_SITE is 500."""
    _, daemon, _ = two_sites
    assert fcgi.authenticate(daemon.port, b"alice", b"alice-pw").status == 500
    assert fcgi.authenticate(daemon.port, b"alice", b"alice-pw", site="blog").status == 200
    assert fcgi.authenticate(daemon.port, b"alice", b"alice-pw", site="nosuchsite").status == 500


def test_readme_shows_the_tested_configuration():
    """The README's two-site snippets are what this test runs: its Apache block
    is in examples/apache/djauth-two-sites.conf line for line, and its djauth
    configuration has the shape used above (two sites, one plain listener)."""
    import tomllib

    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("Several Django sites, one djauth"):]
    toml_block = section.split("```toml\n", 1)[1].split("```", 1)[0]
    apache_block = section.split("```apache\n", 1)[1].split("```", 1)[0]

    config = tomllib.loads("\n".join(line[3:] for line in toml_block.splitlines()))
    assert sorted(config["sites"]) == ["blog", "shop"]
    assert config["sites"]["blog"]["database"].startswith("sqlite:///")
    assert config["sites"]["shop"]["database"].startswith("postgres://")
    assert [sorted(listener) for listener in config["fastcgi"]] == [["listen"]]

    example = [line.strip() for line in TWO_SITES_CONF.read_text().splitlines()
               if line.strip() and not line.lstrip().startswith("#")]
    snippet = [line.strip() for line in apache_block.splitlines() if line.strip()]
    start = example.index(snippet[0])
    assert example[start:start + len(snippet)] == snippet
