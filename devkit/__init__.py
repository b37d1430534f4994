"""Development only: local sandboxes that answer like GitHub, GitLab, Argo CD, Kubernetes and an OCI
registry, the demo world and `manage.py demo`. Production code never imports this package."""
