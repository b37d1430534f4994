"""python -m devkit.sandbox: serve a small fake GitHub and GitLab organisation until Ctrl-C."""

from __future__ import annotations

import argparse
import time

from devkit.sandbox.github import FakeGitHub
from devkit.sandbox.gitlab import FakeGitLab
from devkit.sandbox.organisation import github_organisation, gitlab_group


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--token", default="sandbox-token", help="the one credential both fakes accept")
    parser.add_argument("--repos", type=int, default=3)
    parser.add_argument("--pulls", type=int, default=10)
    args = parser.parse_args()
    github = FakeGitHub(github_organisation(args.token, repos=args.repos, pulls=args.pulls), enterprise=True).start()
    gitlab = FakeGitLab(gitlab_group(args.token, repos=args.repos, pulls=args.pulls)).start()
    print(f"GitHub (Enterprise Server API): {github.url}  organisation: acme")
    print(f"GitLab: {gitlab.url}  group: acme/platform")
    print(f"token: {args.token}  (Ctrl-C stops)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        github.stop()
        gitlab.stop()


if __name__ == "__main__":
    main()
