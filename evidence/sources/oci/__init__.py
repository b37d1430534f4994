"""OCI registry evidence, Django-free: registry client, cosign signatures, DSSE/in-toto provenance,
Sigstore bundles, and the verification that turns them into verdicts.

`evidence.sources.oci.harvester` is the only Django-aware caller; everything here can be re-run offline
on the raw material an entry records.
"""
