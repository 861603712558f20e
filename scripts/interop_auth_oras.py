#!/usr/bin/env python3
"""Push and pull an artifact with the ORAS Python SDK against a registry that
wants credentials; run by scripts/interop-auth.sh inside its virtual
environment:

    interop_auth_oras.py REGISTRY REPOSITORY WORKDIR

REGISTRY is host:port (plain HTTP), REPOSITORY e.g. `octocat/artifact`.
Credentials come from the environment: ORAS_USER and ORAS_TOKEN (a token
that may push REPOSITORY), ORAS_OUTSIDER and ORAS_OUTSIDER_TOKEN (a user who
may not see it). Logins write to WORKDIR/docker-config.json, never to
~/.docker/config.json, so that the clients without a login have no
credentials at all.

The script only acts and records what it saw; the shell script asserts. It
writes WORKDIR/result.json:

* `login`: what `login()` answered;
* `push_status`, `push_digest`: the manifest PUT of `REPOSITORY:v1`
  (`push()` with the owner's token, through the token endpoint);
* `files`: for each file, the sha256 pushed and the sha256 pulled back by
  the same client;
* `anonymous_pull_error`, `anonymous_status`, `anonymous_code`: a client
  without a login: `pull()` must raise; a manifest GET through the
  client's own request path (which fetches an anonymous token) answers;
* `outsider_pull_error`, `outsider_status`, `outsider_code`: the same for a
  client logged in as another user.

A failure of an action that must work exits with status 1 and says what
failed.
"""

import hashlib
import json
import os
import sys

import oras.client

MEDIA_TYPE = "application/vnd.wharf.interop-auth.file.v1"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def client_for(registry, user=None, token=None, config_path=None):
    """A client over plain HTTP that answers challenges through the token
    endpoint; logged in when a user and token are given."""
    client = oras.client.OrasClient(hostname=registry, insecure=True, auth_backend="token")
    login = None
    if user is not None:
        login = client.login(username=user, password=token, hostname=registry, config_path=config_path)
    return client, login


def manifest_answer(client, registry, repository, reference):
    """GET a manifest through the client's request path (challenge, token,
    retry); return (status, first error code or None)."""
    url = f"http://{registry}/v2/{repository}/manifests/{reference}"
    response = client.do_request(url, "GET", headers={"Accept": OCI_MANIFEST})
    code = None
    try:
        code = response.json()["errors"][0]["code"]
    except (ValueError, KeyError, IndexError, TypeError):
        pass
    return response.status_code, code


def pull_error(client, target, outdir):
    """The error pull() raised, or None if it pulled (which is wrong here)."""
    try:
        client.pull(target=target, outdir=outdir)
    except Exception as err:  # noqa: BLE001: any failure to pull is the point
        return f"{type(err).__name__}: {err}"
    return None


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    registry, repository, workdir = sys.argv[1:]
    env = {k: os.environ.get(k) for k in ("ORAS_USER", "ORAS_TOKEN", "ORAS_OUTSIDER", "ORAS_OUTSIDER_TOKEN")}
    missing = [k for k, v in env.items() if not v]
    if missing:
        print(f"missing environment: {', '.join(missing)}", file=sys.stderr)
        sys.exit(2)
    os.makedirs(workdir, exist_ok=True)
    # push() only accepts files under the working directory.
    os.chdir(workdir)
    config_path = os.path.join(workdir, "docker-config.json")
    target = f"{registry}/{repository}:v1"

    files = {
        "payload.bin": os.urandom(200_000),
        "notes.txt": b"Wharf interop-auth artifact, pushed with a personal access token\n",
    }
    for name, data in files.items():
        with open(name, "wb") as f:
            f.write(data)

    owner, login = client_for(registry, env["ORAS_USER"], env["ORAS_TOKEN"], config_path)
    try:
        response = owner.push(
            target=target,
            files=[f"{name}:{MEDIA_TYPE}" for name in files],
            manifest_annotations={"org.opencontainers.image.description": "Wharf interop-auth artifact"},
            quiet=True,
        )
    except Exception as err:  # noqa: BLE001
        print(f"FAIL oras: push of {target} with the owner's token raised {type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(1)

    try:
        pulled = owner.pull(target=target, outdir=os.path.join(workdir, "pulled"))
    except Exception as err:  # noqa: BLE001
        print(f"FAIL oras: pull of {target} with the owner's token raised {type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(1)
    pulled_sha = {}
    for path in pulled:
        with open(path, "rb") as f:
            pulled_sha[os.path.basename(path)] = sha256(f.read())

    anonymous, _ = client_for(registry)
    anonymous_pull_error = pull_error(anonymous, target, os.path.join(workdir, "anonymous"))
    anonymous_status, anonymous_code = manifest_answer(client_for(registry)[0], registry, repository, "v1")

    outsider, _ = client_for(registry, env["ORAS_OUTSIDER"], env["ORAS_OUTSIDER_TOKEN"], config_path + ".outsider")
    outsider_pull_error = pull_error(outsider, target, os.path.join(workdir, "outsider"))
    outsider_status, outsider_code = manifest_answer(
        client_for(registry, env["ORAS_OUTSIDER"], env["ORAS_OUTSIDER_TOKEN"], config_path + ".outsider")[0],
        registry,
        repository,
        "v1",
    )

    with open(os.path.join(workdir, "result.json"), "w") as f:
        json.dump(
            {
                "login": login,
                "push_status": response.status_code,
                "push_digest": response.headers.get("Docker-Content-Digest"),
                "files": {
                    name: {"pushed": sha256(data), "pulled": pulled_sha.get(name)} for name, data in files.items()
                },
                "pulled_names": sorted(pulled_sha),
                "anonymous_pull_error": anonymous_pull_error,
                "anonymous_status": anonymous_status,
                "anonymous_code": anonymous_code,
                "outsider_pull_error": outsider_pull_error,
                "outsider_status": outsider_status,
                "outsider_code": outsider_code,
            },
            f,
            indent=2,
        )


if __name__ == "__main__":
    main()
