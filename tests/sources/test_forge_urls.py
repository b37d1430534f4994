"""Each forge builds its own commit and change URLs; custody and packs ask the registry for them."""

from __future__ import annotations

import pytest

from evidence.sources import kinds

GITHUB = kinds.FORGES["github"]
GITLAB = kinds.FORGES["gitlab"]
SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"


def test_it_builds_github_commit_and_pull_request_urls():
    assert GITHUB.commit_url("https://github.com/octocat/Hello-World", SHA) == (
        f"https://github.com/octocat/Hello-World/commit/{SHA}"
    )
    assert GITHUB.change_url("https://ghe.example/acme/app/", 1347) == "https://ghe.example/acme/app/pull/1347"
    assert GITHUB.repository_url("https://github.com/octocat/Hello-World/pull/1347") == (
        "https://github.com/octocat/Hello-World"
    )


def test_it_builds_gitlab_commit_and_merge_request_urls():
    repository = "https://gitlab.com/marcel.amirault/test-project"
    assert GITLAB.commit_url(repository, SHA) == f"{repository}/-/commit/{SHA}"
    assert GITLAB.change_url(repository, 133) == f"{repository}/-/merge_requests/133"
    assert GITLAB.repository_url(f"{repository}/-/merge_requests/133") == repository
    assert GITLAB.repository_url("https://gitlab.example/group/sub/project/-/merge_requests/7") == (
        "https://gitlab.example/group/sub/project"
    )


def test_it_builds_the_commit_url_in_the_repository_of_a_change():
    assert kinds.commit_url_of_change("github", "https://github.com/acme/app/pull/7", SHA) == (
        f"https://github.com/acme/app/commit/{SHA}"
    )
    assert kinds.commit_url_of_change("gitlab", "https://gitlab.example/acme/app/-/merge_requests/7", SHA) == (
        f"https://gitlab.example/acme/app/-/commit/{SHA}"
    )
    assert kinds.commit_url_of_change("gitlab", "https://gitlab.example/acme/app", SHA) == ""  # not a change URL
    assert kinds.commit_url_of_change("bitbucket", "https://bitbucket.org/acme/app/pull-requests/7", SHA) == ""


@pytest.mark.parametrize(
    ("url", "forge"),
    [
        ("https://github.com/acme/app/pull/7", "github"),
        (f"https://github.com/acme/app/commit/{SHA}", "github"),
        ("https://gitlab.example/acme/app/-/merge_requests/7", "gitlab"),
        (f"https://gitlab.example/acme/app/-/commit/{SHA}", "gitlab"),  # not GitHub's /commit/
        ("https://registry.example/v2/acme/app/manifests/sha256:00", None),
        ("", None),
    ],
)
def test_it_tells_which_forge_a_url_belongs_to(url, forge):
    found = kinds.forge_of_url(url)
    assert (found.name if found else None) == forge
