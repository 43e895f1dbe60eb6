# The workbook's tasks. `just` alone lists them.
#
# Services: every recipe that needs PostgreSQL, MySQL, Redis or Kafka goes through
# scripts/with-services, which uses WORKBOOK_* variables if set, else Docker, else brings the
# services up on this machine (scripts/local-services).

set shell := ["bash", "-euo", "pipefail", "-c"]

default:
    @just --list --unsorted

# Every test of the workspace against real services, each exercise checked both ways (fails as
# shipped, passes with its solution), each benchmark once as a smoke check, then the book built
# and opened in a real browser.
test:
    scripts/with-services just _test-all

# Every test process appends where its databases came from to target/handouts.log (see
# harness::pool); the count is printed once the tests are done.
_test-all:
    mkdir -p target && rm -f target/handouts.log
    WORKBOOK_HANDOUT_LOG="$PWD/target/handouts.log" cargo nextest run --workspace --lib --bins --tests --no-fail-fast
    cargo run -q -- handouts
    cargo run -q -- exercises --verify
    cargo test --workspace --doc
    cargo test --workspace --bench '*'
    just _each-provider-off 'nextest run --lib'
    just docs-check

# Chapter 01 with each notification provider switched off in turn (`cargo CMD -p ch01... TAIL`): a
# provider is deletable when the chapter builds, lints and passes its tests without it.
_each-provider-off CMD *TAIL:
    for off in email sms in-app; do \
      on=$(printf '%s\n' email sms in-app | grep -vx "$off" | paste -sd, -); \
      echo "chapter 01 without the $off provider (features: $on)"; \
      cargo {{CMD}} -p ch01-layered-service --no-default-features --features "$on" {{TAIL}}; \
    done

# The tests that need no server: unit tests beside the code.
test-unit:
    cargo nextest run --workspace --lib --bins

# Runs the benchmarks (all, or those matching FILTER) and writes docs/src/benchmarks.md.
bench *FILTER:
    scripts/with-services cargo bench --workspace -- {{FILTER}}
    cargo run -q -- bench --report

# Chapter 01's service layer is tested by its unit tests; chapter 03's propagation and scope
# endings by their unit tests and the endings tests on real databases; chapter 07's retry and
# dead-letter decisions by their unit tests and the classification of real database errors (so
# those two need the services). Installs
# cargo-mutants the first time. It mutates the files in place, reusing target/ (minutes instead of
# a fresh build of a copy), and puts each file back afterwards: do not edit the chapters while it
# runs. Chapters 01 and 07 have a feature `mutants` that gives their result types the `Default` a
# mutant needs (see `User`); `.cargo/mutants.toml` lists what is spared, each with its reason beside the code.
# Reports are in target/mutants/<chapter>/mutants.out.
# Mutation testing: every mutant of the decisions the chapters teach must be caught by a test.
mutants:
    command -v cargo-mutants >/dev/null || cargo install cargo-mutants --locked
    mkdir -p target/mutants/ch01 target/mutants/ch03 target/mutants/ch07
    cargo mutants --in-place --package ch01-layered-service --test-tool nextest --output target/mutants/ch01 \
        --features mutants \
        --file chapters/01-layered-service/src/service.rs \
        --file chapters/01-layered-service/src/validation.rs \
        --file chapters/01-layered-service/src/error.rs \
        --file chapters/01-layered-service/src/notify/fan_out.rs \
        -- --lib
    scripts/with-services cargo mutants --in-place --package ch03-transaction-manager --test-tool nextest \
        --output target/mutants/ch03 \
        --file chapters/03-transaction-manager/src/manager/propagation.rs \
        --file chapters/03-transaction-manager/src/manager/ending.rs \
        -- -E 'kind(lib) | (binary(it) & test(/^(endings|propagation)::/))'
    scripts/with-services cargo mutants --in-place --package ch07-message-broker --test-tool nextest \
        --output target/mutants/ch07 --features mutants \
        --file chapters/07-message-broker/src/db_errors.rs \
        --file chapters/07-message-broker/src/consumer.rs \
        --file chapters/07-message-broker/src/inbox/mod.rs \
        --re 'Retry|partition_revoked|receive_error_cause|refuses_for_good|for HandlerError' \
        -- -E 'kind(lib) | (binary(it) & test(/^db_errors::/))'

# Installs cargo-llvm-cov the first time. Builds the workspace instrumented (a build of its own,
# in target/llvm-cov-target), runs the nextest part of `just test` under it, against the real
# services, and writes docs/src/coverage.md; fails if a chapter library or the harness is below
# the floor. Code only a tour runs counts: the tours run under the CLI tests. target/lcov.info
# has the lines, for an editor or `genhtml`.
# Line and region coverage of the tests, per crate.
coverage:
    command -v cargo-llvm-cov >/dev/null || { rustup component add llvm-tools-preview && cargo install cargo-llvm-cov --locked; }
    scripts/with-services cargo llvm-cov nextest --no-report --workspace --lib --bins --tests --no-fail-fast
    cargo llvm-cov report --workspace --json --summary-only --output-path target/coverage.json
    cargo llvm-cov report --workspace --lcov --output-path target/lcov.info
    cargo run -q -- coverage --report

# The narrated tours: `just tour`, `just tour harness`, `just tour --real`.
tour *ARGS:
    cargo run -q -- tour {{ARGS}}

# Where each service would come from, and whether it answers.
doctor:
    if [ -f target/services.env ] && ! env | grep -q '^WORKBOOK_'; then source target/services.env; fi; cargo run -q -- doctor

# Builds the book into docs/book: installs mdBook the first time, and fetches the mermaid script
# that draws its diagrams (scripts/book-assets), so that the book loads nothing from a network
# when it is read.
docs:
    command -v mdbook >/dev/null || cargo install mdbook --version 0.5.4 --locked
    scripts/book-assets
    mdbook build docs

# Opens every page of the built book in headless Chromium: fails on a JavaScript error, a diagram
# that did not render, a broken link or a broken image.
docs-check: docs
    cargo run -q -- book --check

# Starts the services on this machine without Docker (see scripts/local-services).
services-up:
    scripts/local-services up

# Stops what services-up started, and removes the harness's reusable Docker containers.
services-down:
    scripts/local-services down
    if command -v docker >/dev/null && docker info >/dev/null 2>&1; then docker rm -f workbook-postgres workbook-mysql workbook-redis workbook-kafka 2>/dev/null || true; fi

# Formatting and clippy, warnings as errors.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings
    just _each-provider-off 'clippy --all-targets' -- -D warnings
