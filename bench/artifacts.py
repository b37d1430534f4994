"""Digests verified per second against a local registry, beside the registry's own serving time.

    python bench/artifacts.py            # 100 images (well under 2 minutes)
    python bench/artifacts.py --full     # 1,000 images, the issue's figure
    python bench/artifacts.py -n 300

Starts Debian's docker-registry on loopback in a temp dir, publishes N images, each with one
cosign signature (.sig tag) and one SLSA v1 provenance attestation (.att tag), signed by an
ECDSA P-256 key, then measures, in the same run:
  1. baseline: a bare `requests` session GETting exactly the manifests and blobs verification
     needs (image manifest, signature manifest + payload, attestation manifest + envelope);
  2. verification: `inspect_artifact` per digest (the same fetches, plus the referrers probe and
     fallback tag, plus the cryptography and parsing);
  3. harvest: `harvest_target` for the repository: verification plus ledger append (sequencing,
     hashing) and projection, on a throwaway SQLite database (never your configured one unless
     --use-configured-db).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100, help="images to publish and verify (default 100)")
    parser.add_argument("--full", action="store_true", help="1,000 images, the figure named in the issue")
    parser.add_argument("--use-configured-db", action="store_true", help="harvest into DATABASE_URL, not a temp DB")
    args = parser.parse_args()
    n = 1000 if args.full else args.n
    work = Path(tempfile.mkdtemp(prefix="bench-artifacts-"))
    if not args.use_configured_db:
        os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ.pop("REDIS_URL", None)  # inline sequencing and projection: measure the whole path
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devkit.settings")
    import django

    django.setup()
    from cryptography.hazmat.primitives.asymmetric import ec
    from django.core.management import call_command

    from devkit.sandbox.registry import public_pem, publish_signed_image, running_registry
    from evidence.sources.harvest import harvest_target
    from evidence.sources.models import Source
    from evidence.sources.oci.client import RegistryClient
    from evidence.sources.oci.reference import attestation_tag, signature_tag
    from evidence.sources.oci.trust import load_policy
    from evidence.sources.oci.verification import inspect_artifact

    call_command("migrate", verbosity=0)
    key = ec.generate_private_key(ec.SECP256R1())
    (work / "release.pub").write_bytes(public_pem(key))
    policy = load_policy([str(work / "release.pub")], [])
    repository = "bench/app"

    with running_registry(work / "registry") as registry:
        publisher = RegistryClient(registry.url)
        t0 = time.perf_counter()
        digests = [publish_signed_image(publisher, repository, f"v{i}", key).digest for i in range(n)]
        publish = time.perf_counter() - t0

        # What verification has to read, found once up front so the baseline does no discovery work.
        paths = []
        for digest in digests:
            paths.append(f"/v2/{repository}/manifests/{digest}")
            for tag in (signature_tag(digest), attestation_tag(digest)):
                manifest = publisher.get_manifest(repository, tag)
                paths.append(f"/v2/{repository}/manifests/{tag}")
                paths.extend(f"/v2/{repository}/blobs/{layer['digest']}" for layer in manifest.body["layers"])

        import requests

        session = requests.Session()
        accept = {"Accept": "application/vnd.oci.image.manifest.v1+json"}
        t0 = time.perf_counter()
        served = sum(len(session.get(registry.url + path, headers=accept, timeout=10).content) for path in paths)
        baseline = time.perf_counter() - t0

        client = RegistryClient(registry.url)
        t0 = time.perf_counter()
        verdicts = [inspect_artifact(client, repository, digest, policy) for digest in digests]
        verify = time.perf_counter() - t0
        ok = sum(
            all(f.verdict.verdict == "verified" for f in r.signatures + r.attestations) and len(r.attestations) == 1
            for r in verdicts
        )
        if ok != n:
            sys.exit(f"bench: only {ok} of {n} digests verified; the figure would be meaningless")

        source = Source.objects.create(
            name=f"bench-{int(time.time())}",
            kind="oci",
            url=registry.url,
            config={"images": [repository], "trusted_keys": [str(work / "release.pub")], "max_tags": n},
        )
        t0 = time.perf_counter()
        run = harvest_target(source, repository)
        harvest = time.perf_counter() - t0
        if run.status != "succeeded":
            sys.exit(f"bench: harvest {run.status}: {run.errors[:3]}")

    figures = {
        "images": n,
        "publish_s": f"{publish:.2f}",
        "baseline_registry_serving_s": f"{baseline:.2f}",
        "baseline_requests": len(paths),
        "baseline_bytes": served,
        "verify_s": f"{verify:.2f}",
        "verify_requests": client.requests_made,
        "verified_digests_per_s": f"{n / verify:.1f}",
        "harvest_s": f"{harvest:.2f}",
        "harvest_records": run.records,
        "harvest_digests_per_s": f"{n / harvest:.1f}",
    }
    rows = [
        (f"registry alone serves the {len(paths)} manifests/blobs", baseline),
        (f"inspect_artifact (fetch + verify), {client.requests_made} requests", verify),
        ("harvest_target (verify + ledger append + projection)", harvest),
    ]
    print(f"artifacts bench: {n} images, each with 1 cosign signature + 1 SLSA provenance (ECDSA P-256)")
    for label, seconds in rows:
        print(f"  {label:<58} {seconds:7.2f} s  {n / seconds:8.1f} digests/s")
    print(
        f"  verification takes {verify / baseline:.2f}x the registry's serving time; harvest {harvest / baseline:.2f}x"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
