//! wharf-reference: parsing 20 realistic image references with
//! `wharf_reference::Reference` against `oci_client::Reference` (oci-spec's
//! regex-based parser) on the same strings, in one criterion group so the
//! ratio comes from one run. Target: at least 5x faster.
//!
//! `oci_client::Reference` always normalizes (Docker Hub registry,
//! `library/`, default tag `latest`), so besides the plain parse we also
//! measure `Reference::parse_normalized`, which does the same work.
//!
//! ```sh
//! cargo bench -p wharf-benches --bench reference -- --warm-up-time 1 --measurement-time 5
//! ```

use std::hint::black_box;

use criterion::measurement::Measurement;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};

const SHA256: &str = "sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa";

/// What people type and what tools print: Docker Hub short names, cloud
/// registries with deep paths, ports, IPs, tags and digests.
fn references() -> Vec<String> {
    vec![
        "busybox".into(),
        "alpine:3.20".into(),
        "library/ubuntu:24.04".into(),
        "nginx:1.27-alpine".into(),
        "bitnami/postgresql:16.4.0-debian-12-r9".into(),
        "docker.io/library/redis:7.4".into(),
        "ghcr.io/octocat/my-repo:latest".into(),
        "ghcr.io/home-assistant/home-assistant:2024.10.1".into(),
        "quay.io/prometheus/node-exporter:v1.8.2".into(),
        "registry.k8s.io/kube-apiserver:v1.31.1".into(),
        "gcr.io/distroless/static-debian12:nonroot".into(),
        "mcr.microsoft.com/dotnet/aspnet:8.0-jammy".into(),
        "public.ecr.aws/docker/library/python:3.12-slim".into(),
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/service/api:build-4821".into(),
        "europe-west1-docker.pkg.dev/my-project/my-repo/app:sha-3f9c2b1".into(),
        "localhost:5000/test/image:dev".into(),
        "127.0.0.1:5000/cache/ubuntu@".to_owned() + SHA256,
        format!("ghcr.io/octocat/app@{SHA256}"),
        format!("docker.io/library/alpine:3.20@{SHA256}"),
        format!("registry.gitlab.com/group/subgroup/project/image:v2.3.1@{SHA256}"),
    ]
}

fn check_both_parsers_accept_all(refs: &[String]) {
    for r in refs {
        // Both parsers must accept every input, or the comparison is void.
        assert!(
            r.parse::<wharf_reference::Reference>().is_ok(),
            "wharf rejects {r}"
        );
        assert!(
            r.parse::<oci_client::Reference>().is_ok(),
            "oci-client rejects {r}"
        );
    }
}

fn compare<M: Measurement>(mut group: BenchmarkGroup<'_, M>, refs: &[String]) {
    group.throughput(Throughput::Elements(refs.len() as u64));
    group.bench_function("wharf_reference::Reference::parse", |b| {
        b.iter(|| {
            for r in refs {
                black_box(
                    black_box(r.as_str())
                        .parse::<wharf_reference::Reference>()
                        .ok(),
                );
            }
        })
    });
    group.bench_function("wharf_reference::Reference::parse_normalized", |b| {
        b.iter(|| {
            for r in refs {
                black_box(wharf_reference::Reference::parse_normalized(black_box(r.as_str())).ok());
            }
        })
    });
    group.bench_function("oci_client::Reference::from_str", |b| {
        b.iter(|| {
            for r in refs {
                black_box(black_box(r.as_str()).parse::<oci_client::Reference>().ok());
            }
        })
    });
    group.finish();
}

fn parse(c: &mut Criterion) {
    let refs = references();
    check_both_parsers_accept_all(&refs);
    compare(c.benchmark_group("reference_parse_20"), &refs);
}

criterion_group!(benches, parse);
criterion_main!(benches);
