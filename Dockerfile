# syntax=docker/dockerfile:1
# The s3cors container image: built with the Rust toolchain, shipped as the binary
# alone on a distroless base, which has glibc, CA certificates (S3 and verify's
# probes use TLS with the system's roots) and a non-root user, and no shell or
# package manager.
#
#   docker build --build-arg S3CORS_BUILD_COMMIT="$(git rev-parse --short HEAD)" -t s3cors .
#   docker run --rm -v "$PWD:/work" -e AWS_REGION -e AWS_ACCESS_KEY_ID \
#       -e AWS_SECRET_ACCESS_KEY -e AWS_SESSION_TOKEN s3cors plan policies/
#
# CI checks this file with hadolint (scripts/lint) but does not build it: a build
# needs the container registry and a full release compile.

ARG RUST_VERSION=1.95
# The runtime base. `--build-arg BASE=gcr.io/distroless/cc-debian12:debug-nonroot`
# adds busybox's shell (/busybox/sh), for a container that redirects s3cors's
# output to a file (examples/k8s/drift-cronjob.yaml); same user, same binary.
ARG BASE=gcr.io/distroless/cc-debian12:nonroot

FROM rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src
COPY . .
# The build context has no .git (.dockerignore), so build.rs takes the commit
# --version shows from here.
ARG S3CORS_BUILD_COMMIT=unknown
ENV S3CORS_BUILD_COMMIT=${S3CORS_BUILD_COMMIT}
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin s3cors \
    && install -m 0755 target/release/s3cors /usr/local/bin/s3cors

FROM ${BASE}
COPY --from=build /usr/local/bin/s3cors /usr/local/bin/s3cors
# Mount the repository here: `s3cors plan` reads policies/ below it, and
# `apply` keeps .s3cors/runs/ (the journal a rollback needs) there too.
WORKDIR /work
# distroless' nonroot user, by number so the host can resolve it.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/s3cors"]
CMD ["--help"]
