# healthgeo: the two commands of the README.
#   make run   [CONFIG=config/utrecht.yaml]  install (once) and run the workflow (default: offline demo)
#   make test                                install (once) and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
CONFIG ?= config/config.yaml
CORES  ?= 2
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.healthgeo-installed

.PHONY: install run test lint fetch dag clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@# a run killed hard (SIGKILL, power loss) leaves a stale lock: release it, then resume
	@$(BIN)/snakemake --configfile $(CONFIG) --replace-workflow-config --unlock >/dev/null 2>&1 || true
	$(BIN)/snakemake --cores $(CORES) --configfile $(CONFIG) --replace-workflow-config --rerun-incomplete
	@$(BIN)/python -m healthgeo outputs $(CONFIG)

fetch: $(STAMP)  ## download every input ahead of an offline run
	$(BIN)/snakemake --cores $(CORES) --configfile $(CONFIG) --replace-workflow-config --rerun-incomplete fetch

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/snakemake --lint --configfile $(CONFIG) --replace-workflow-config
	$(BIN)/snakefmt --check Snakefile workflow/rules

dag: $(STAMP)
	$(BIN)/snakemake --configfile $(CONFIG) --replace-workflow-config --rulegraph

clean:
	rm -rf data/processed/* logs .snakemake
