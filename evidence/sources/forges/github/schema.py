"""What a github source's config may hold (README "Sources as code")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeFloat, model_validator

from evidence.sources.forges.base import ForgeConfig


class GitHubConfig(ForgeConfig):
    repositories: list[str] = Field(default_factory=list)  # owner/name
    # Pull requests, reviews, commits and dismissals through GraphQL (about 0.02 requests per merged
    # pull request) or REST (3); protection, rulesets, rule suites and history are REST either way.
    api: Literal["graphql", "rest"] = "graphql"
    organisation: str = ""  # every repository of the organisation
    organization: str = ""  # the same, spelt the American way
    app_id: int | None = None  # authenticate as this GitHub App (the credential is its PEM key)
    installation_id: int | None = None
    backoff_factor: NonNegativeFloat = 0.5
    seconds_between_requests: NonNegativeFloat = 0.25  # PyGithub's pacing; 0 for local sandboxes

    @model_validator(mode="after")
    def _app_needs_installation(self) -> GitHubConfig:
        if self.app_id is not None and self.installation_id is None:
            raise ValueError("app_id needs installation_id (the App's installation on the organisation)")
        return self
