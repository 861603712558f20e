#!/usr/bin/env python3
"""Push and pull OCI 1.1 artifacts and referrers with the ORAS Python SDK.

Run by scripts/interop.sh inside its virtual environment:

    interop_oras.py REGISTRY REPOSITORY WORKDIR

It pushes, to REGISTRY (host:port, plain HTTP):

* an artifact (two files, an empty config, `artifactType` and annotations),
  tagged `bundle`; oras-py's `push()` cannot set `artifactType`, so the blobs go
  through `upload_blob()` and the manifest is PUT with the client's session,
  keeping its exact bytes;
* a signature referrer with its own `artifactType` whose `subject` is the
  artifact, pushed by digest the same way;
* an SBOM referrer through `push(subject=...)`, oras-py's own subject support,
  which writes no `artifactType`: the referrers API must then report the
  config's media type.

It pulls the artifact back with `pull()` and compares every file byte for
byte, and checks what the registry says about each manifest PUT. Failures
print what was expected and what came back, and exit with status 1. On
success it writes WORKDIR/result.json with the digests and sizes the shell
script needs for the referrers checks.
"""

import hashlib
import json
import os
import sys

import oras.client
import oras.defaults
import oras.oci

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
EMPTY_CONFIG = "application/vnd.oci.empty.v1+json"
ARTIFACT_TYPE = "application/vnd.wharf.interop.bundle.v1"
SIGNATURE_TYPE = "application/vnd.wharf.interop.signature.v1"
SBOM_CONFIG_TYPE = "application/vnd.wharf.interop.sbom.config.v1+json"


def fail(what, expected, actual):
    print(f"FAIL oras: {what}\n  expected: {expected}\n  actual:   {actual}", file=sys.stderr)
    sys.exit(1)


def expect_eq(what, expected, actual):
    if expected != actual:
        fail(what, expected, actual)
    print(f"ok - oras: {what}", file=sys.stderr)


def sha256_digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def upload(client, container, path, media_type, title=None):
    """Upload one file as a blob and return its descriptor."""
    layer = oras.oci.NewLayer(path, media_type=media_type)
    if title is not None:
        layer["annotations"] = {oras.defaults.annotation_title: title}
    response = client.upload_blob(path, container, layer)
    if response.status_code not in (200, 201, 202):
        fail(f"upload of blob {path}", "201 Created", f"{response.status_code} {response.text}")
    return layer


def put_manifest(client, registry, repository, reference, manifest):
    """PUT a manifest's exact bytes; return (digest, size, response)."""
    body = json.dumps(manifest, separators=(",", ":"), sort_keys=True).encode()
    digest = sha256_digest(body)
    url = f"http://{registry}/v2/{repository}/manifests/{reference}"
    response = client.do_request(url, "PUT", data=body, headers={"Content-Type": OCI_MANIFEST})
    expect_eq(f"PUT manifest {repository}:{reference} status", 201, response.status_code)
    expect_eq(
        f"PUT manifest {repository}:{reference} Docker-Content-Digest",
        digest,
        response.headers.get("Docker-Content-Digest"),
    )
    return digest, len(body), response


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    registry, repository, workdir = sys.argv[1:]
    os.makedirs(workdir, exist_ok=True)
    # push() only accepts files under the working directory.
    os.chdir(workdir)

    client = oras.client.OrasClient(hostname=registry, insecure=True)
    user, password = os.environ.get("REGISTRY_USER"), os.environ.get("REGISTRY_PASSWORD")
    if user and password:
        client.login(username=user, password=password, hostname=registry, insecure=True)
    container = client.get_container(f"{registry}/{repository}:bundle")

    # The artifact: two files of random bytes plus a small text file.
    files = {
        "payload.bin": os.urandom(300_000),
        "readme.txt": b"Wharf interoperability artifact\n",
    }
    layers = []
    for name, data in files.items():
        write(name, data)
        layers.append(upload(client, container, name, "application/vnd.wharf.interop.file.v1", title=name))
    write("empty.json", b"{}")
    config = upload(client, container, "empty.json", EMPTY_CONFIG)
    expect_eq("empty config digest", oras.defaults.blank_config_hash, config["digest"])

    artifact = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": ARTIFACT_TYPE,
        "config": config,
        "layers": layers,
        "annotations": {
            "org.opencontainers.image.description": "Wharf interop artifact",
            "org.opencontainers.image.created": "2024-01-01T00:00:00Z",
            "com.example.interop": "bundle",
        },
    }
    artifact_digest, artifact_size, _ = put_manifest(client, registry, repository, "bundle", artifact)

    # Read it back: the manifest keeps artifactType and annotations.
    served = client.get_manifest(container, allowed_media_type=[OCI_MANIFEST])
    expect_eq("pulled manifest artifactType", ARTIFACT_TYPE, served.get("artifactType"))
    expect_eq("pulled manifest annotations", artifact["annotations"], served.get("annotations"))

    # Pull the files back and compare them byte for byte.
    pulled = client.pull(target=f"{registry}/{repository}:bundle", outdir=os.path.join(workdir, "pulled"))
    expect_eq("pulled file names", sorted(files), sorted(os.path.basename(p) for p in pulled))
    for path in pulled:
        with open(path, "rb") as f:
            got = f.read()
        name = os.path.basename(path)
        expect_eq(f"pulled {name} sha256", sha256_digest(files[name]), sha256_digest(got))

    subject = {"mediaType": OCI_MANIFEST, "digest": artifact_digest, "size": artifact_size}

    # Referrer 1: a signature with its own artifactType, pushed by digest.
    write("signature.sig", os.urandom(512))
    signature_layer = upload(client, container, "signature.sig", "application/vnd.wharf.interop.sig.v1")
    signature = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": SIGNATURE_TYPE,
        "config": config,
        "layers": [signature_layer],
        "subject": subject,
        "annotations": {"com.example.signed-by": "interop"},
    }
    body = json.dumps(signature, separators=(",", ":"), sort_keys=True).encode()
    signature_digest, _, response = put_manifest(client, registry, repository, sha256_digest(body), signature)

    # Referrer 2: oras-py's own push(subject=...), without artifactType.
    write("sbom.json", json.dumps({"spdxVersion": "SPDX-2.3", "name": "interop"}).encode())
    write("sbom-config.json", b'{"generator":"interop"}')
    response_sbom = client.push(
        target=f"{registry}/{repository}:sbom",
        files=["sbom.json:application/spdx+json"],
        manifest_config=f"sbom-config.json:{SBOM_CONFIG_TYPE}",
        manifest_annotations={"com.example.kind": "sbom"},
        subject=oras.oci.Subject(mediaType=OCI_MANIFEST, digest=artifact_digest, size=artifact_size),
        quiet=True,
    )
    expect_eq("oras push(subject=...) status", 201, response_sbom.status_code)
    sbom_digest = response_sbom.headers.get("Docker-Content-Digest")

    result = os.path.join(workdir, "result.json")
    with open(result, "w") as f:
        json.dump(
            {
                "artifact": artifact_digest,
                "artifact_size": artifact_size,
                "artifact_type": ARTIFACT_TYPE,
                "signature": signature_digest,
                "signature_type": SIGNATURE_TYPE,
                "signature_oci_subject": response.headers.get("OCI-Subject"),
                "sbom": sbom_digest,
                "sbom_type": SBOM_CONFIG_TYPE,
                "sbom_oci_subject": response_sbom.headers.get("OCI-Subject"),
            },
            f,
        )


if __name__ == "__main__":
    main()
