# syntax=docker/dockerfile:1
# Trygg container image. Build: docker build -t trygg .   Run: see docker-compose.yml.

# ---- build ------------------------------------------------------------------------------
FROM rust:1-bookworm AS builder
# pq-sys builds the bundled libpq, which links OpenSSL: it needs pkg-config and the headers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends pkg-config libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app

# Dependencies first, against stub sources: this layer is rebuilt only when Cargo.toml or
# Cargo.lock change, not on every edit of src/.
COPY Cargo.toml Cargo.lock build.rs ./
RUN mkdir src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && cargo build --release --locked \
 && rm -rf src

# The real sources. migrations/ is embedded into the binary at compile time; api-spec/ is
# copied in case the code includes the spec.
COPY src ./src
COPY migrations ./migrations
COPY config ./config
COPY api-spec ./api-spec
# touch: make sure cargo sees the sources as newer than the stub build above.
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked \
 && cp target/release/trygg /usr/local/bin/trygg

# ---- runtime ----------------------------------------------------------------------------
FROM debian:bookworm-slim
# libssl3: the bundled libpq links OpenSSL dynamically. ca-certificates: TLS to the database.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 trygg \
 && useradd --system --uid 10001 --gid trygg --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin trygg
COPY --from=builder /usr/local/bin/trygg /usr/local/bin/trygg
# Signed audit checkpoints live outside the database; mount a volume here.
RUN mkdir -p /var/lib/trygg && chown trygg:trygg /var/lib/trygg

USER trygg:trygg
# Inside a container the service must listen on all interfaces to be reachable.
ENV TRYGG_BIND=0.0.0.0:8080 \
    TRYGG_AUDIT_CHECKPOINT_FILE=/var/lib/trygg/audit-checkpoints.jsonl \
    RUST_LOG=info
EXPOSE 8080
# No HEALTHCHECK: the slim image has no curl/wget. Orchestrators should probe
# GET /health/live and GET /health/ready over HTTP instead.
ENTRYPOINT ["trygg"]
CMD ["serve"]
