"""GitHub (github.com and Enterprise Server): what the registry knows of it.

harvester.py reads the GraphQL API for pull requests (graphql.py) and the REST API for the rest
(PyGithub); records.py builds the ledger payloads and reads them
back as forge-neutral records; schema.py is the config a github source accepts. The webhook
receiver is evidence.sources.webhooks.github.
"""

from evidence.sources.forges.base import Forge
from evidence.sources.forges.github.records import NORMALISERS
from evidence.sources.forges.github.schema import GitHubConfig

FORGE = Forge(
    name="github",
    label="GitHub",
    harvester="evidence.sources.forges.github.harvester:GitHubHarvester",
    receiver="evidence.sources.webhooks.github:receive",
    schema=GitHubConfig,
    change_mark="#",
    change_path="/pull/{number}",
    commit_path="/commit/{sha}",
    watch_key="repositories",
    owner_keys=("organisation", "organization"),
    normalisers=NORMALISERS,
)
