# The two commands a fresh machine needs (see README.md):
#   make demo   builds migrate and applies the example project to the default SQLite database
#   make test   installs/starts what the tests need, then runs every test
CARGO ?= cargo
MIGRATE := ./target/release/migrate

.PHONY: demo test build lint servers tools bench clean-demo

build:
	$(CARGO) build --release

demo: build
	$(MIGRATE) upgrade head
	@echo; echo "== history =="; $(MIGRATE) history --indicate-current
	@echo; echo "== current =="; $(MIGRATE) current --verbose
	@echo; echo "== graph =="; $(MIGRATE) graph

clean-demo:
	rm -f app.db

servers:
	bash tests/servers.sh

# Alembic, SQLAlchemy, drivers and Squawk in target/pyenv: the oracles the tests compare against.
tools:
	bash tests/tools.sh

# A database test whose server is unreachable fails. MIGRATE_SKIP_SERVERS=1 lets such
# tests skip instead (never in CI or under MIGRATE_REQUIRE_SERVERS=1); each skip is
# written to SKIP_LOG, and the last line of the run says how many server tests did not run.
SKIP_LOG := $(CURDIR)/target/skipped-server-tests.txt

test: servers tools
	@mkdir -p target; rm -f $(SKIP_LOG)
	@MIGRATE_SKIP_LOG=$(SKIP_LOG) $(CARGO) test --all-targets; status=$$?; \
	if [ -s $(SKIP_LOG) ]; then \
	  echo "NOT RUN: $$(wc -l < $(SKIP_LOG)) server test(s) skipped because their server was unreachable (MIGRATE_SKIP_SERVERS); list in $(SKIP_LOG)"; \
	fi; exit $$status

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

bench: build
	bash tests/bench/run.sh
