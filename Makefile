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

# In CI (CI=true) or with MIGRATE_REQUIRE_SERVERS=1 a database test whose server is
# unreachable fails; otherwise it prints SKIPPED and says which.
test: servers tools
	$(CARGO) test --all-targets

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

bench: build
	bash tests/bench/run.sh
