# healthgeo: the two commands of the README.
#   make run   [CONFIG=config/utrecht.yaml] [PROFILE=workflow/profiles/slurm]
#                                            install (once) and run the workflow (default: offline demo,
#                                            on this machine; the slurm profile submits to a SLURM cluster)
#   make test                                install (once) and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
CONFIG ?= config/config.yaml
CORES  ?= 2
BIN    := $(VENV)/bin
PROFILE ?= workflow/profiles/default
SNAKEMAKE_ARGS := --workflow-profile $(PROFILE)
STAMP  := $(VENV)/.healthgeo-installed

.PHONY: install run _run test lint fetch dag clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@# one `make run` per directory at a time (flock): only then is a Snakemake lock left behind
	@# certainly stale (a run killed by SIGKILL or power loss) and safe to release before resuming
	@mkdir -p .snakemake
	@if command -v flock >/dev/null 2>&1; then \
	  flock -n -E 75 .snakemake/make-run.lock $(MAKE) --no-print-directory _run UNLOCK=1; rc=$$?; \
	  if [ $$rc -eq 75 ]; then echo "make run: another 'make run' is active in this directory; nothing was touched" >&2; fi; \
	  exit $$rc; \
	else $(MAKE) --no-print-directory _run UNLOCK=0; fi

# quiet console and --rerun-incomplete: workflow/profiles/default; the summary says where the
# GeoPackage and the logs are, also after a failure (the last good GeoPackage is kept)
_run:
	@if [ "$(UNLOCK)" = 1 ]; then $(BIN)/snakemake --configfile $(CONFIG) --replace-workflow-config --unlock >/dev/null 2>&1 || true; fi
	@$(BIN)/snakemake $(SNAKEMAKE_ARGS) --cores $(CORES) --configfile $(CONFIG) --replace-workflow-config; \
	  rc=$$?; $(BIN)/python -m healthgeo outputs $(CONFIG) --exit-code $$rc; exit $$rc

fetch: $(STAMP)  ## download every input ahead of an offline run
	$(BIN)/snakemake $(SNAKEMAKE_ARGS) --cores $(CORES) --configfile $(CONFIG) --replace-workflow-config fetch

# the suite in parallel (pytest-xdist, one worker per CPU; --dist loadfile keeps a test file on one
# worker, so its module fixtures are built once; the demo run is shared, see tests/conftest.py);
# TEST_WORKERS=0 runs it in one process
TEST_WORKERS ?= auto
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=25

lint: $(STAMP)
	$(BIN)/snakemake --lint --configfile $(CONFIG) --replace-workflow-config
	$(BIN)/snakefmt --check Snakefile workflow/rules

dag: $(STAMP)
	$(BIN)/snakemake --configfile $(CONFIG) --replace-workflow-config --rulegraph

clean:
	rm -rf data/processed/* logs .snakemake
