"""GitLab (gitlab.com and self-managed): what the registry knows of it.

harvester.py reads the REST API (python-gitlab); records.py builds the ledger payloads and reads
them back as forge-neutral records; schema.py is the config a gitlab source accepts. The webhook
receiver is evidence.sources.webhooks.gitlab.
"""

from evidence.sources.forges.base import Forge
from evidence.sources.forges.gitlab.records import NORMALISERS
from evidence.sources.forges.gitlab.schema import GitLabConfig

FORGE = Forge(
    name="gitlab",
    label="GitLab",
    harvester="evidence.sources.forges.gitlab.harvester:GitLabHarvester",
    receiver="evidence.sources.webhooks.gitlab:receive",
    schema=GitLabConfig,
    change_mark="!",
    change_path="/-/merge_requests/{number}",
    commit_path="/-/commit/{sha}",
    watch_key="projects",
    owner_keys=("group",),
    normalisers=NORMALISERS,
)
