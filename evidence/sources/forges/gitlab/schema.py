"""What a gitlab source's config may hold (README "Sources as code")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from evidence.sources.forges.base import ForgeConfig


class GitLabConfig(ForgeConfig):
    projects: list[str] = Field(default_factory=list)  # group/project paths
    group: str = ""  # every project of the group, subgroups included
    # The credential: a private, project or group access token, or an OAuth token.
    token_type: Literal["private", "oauth"] = "private"  # noqa: S105 -- a kind of token, not one
