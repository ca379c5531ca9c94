"""The guides cannot rot: every configuration block in docs/guides/*.md is
marked with the file it shows (`<!-- file: PATH -->` on the line before the
fence) and must equal that file, the file the end-to-end tests serve; each
guide shows the files of its job; the README links every guide."""

import re

import pytest

from conftest import DOORS, REPO, guide_files

GUIDES_DIR = REPO / "docs" / "guides"
BLOCK = re.compile(r"<!-- file: (\S+) -->\n```[a-z]*\n(.*?)^```$", re.S | re.M)
DJANGO = "examples/guides/django"
EXPECTED = {
    "media.md": {f"examples/guides/media-{door}.conf" for door in DOORS}
    | {"examples/guides/djauth.toml", f"{DJANGO}/shares/migrations/0001_groups.py"},
    "subversion.md": {f"examples/guides/svn-{door}.conf" for door in DOORS}
    | {
        "examples/guides/djauth.toml",
        f"{DJANGO}/svn/models.py",
        f"{DJANGO}/svn/migrations/0001_initial.py",
        f"{DJANGO}/svn/migrations/0002_committers.py",
    },
    "webdav.md": {f"examples/guides/webdav-{door}.conf" for door in DOORS}
    | {"examples/guides/djauth.toml", f"{DJANGO}/shares/migrations/0001_groups.py"},
}


def blocks(guide):
    return BLOCK.findall((GUIDES_DIR / guide).read_text())


@pytest.mark.parametrize("guide", sorted(EXPECTED))
def test_each_block_is_the_tested_file(guide):
    found = blocks(guide)
    assert found, f"{guide} shows no marked file"
    for path, text in found:
        assert text == (REPO / path).read_text(), f"{guide}: the block of {path} differs from the file"


@pytest.mark.parametrize("guide", sorted(EXPECTED))
def test_each_guide_shows_its_files(guide):
    assert {path for path, _ in blocks(guide)} == EXPECTED[guide]


def test_every_served_configuration_is_in_a_guide():
    shown = set().union(*EXPECTED.values())
    for door in DOORS:
        for name in guide_files(door):
            assert f"examples/guides/{name}" in shown, name


def test_no_fence_escapes_the_marker():
    # A marker must be directly followed by its fence, or the block is not checked.
    for guide in EXPECTED:
        text = (GUIDES_DIR / guide).read_text()
        assert text.count("<!-- file: ") == len(blocks(guide)), guide


def test_readme_links_the_guides():
    readme = (REPO / "README.md").read_text()
    for guide in EXPECTED:
        assert f"](docs/guides/{guide})" in readme, guide
