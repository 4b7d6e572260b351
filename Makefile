# `make run` on a fresh clone: virtualenv, pinned install, offline plot template, full pipeline, summary.
# `make test`: the test suite (what CI runs).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DVC_NO_ANALYTICS := 1
export MLFLOW_DISABLE_TELEMETRY := true
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: run setup pipeline test test-fast lint ui plots exps params dvc.yaml reproduce clean tracking-server

run: setup pipeline

# requirements.lock is a pip freeze of a working environment: it rebuilds the same set every time.
$(BIN)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e '.[dev]'
	touch $@

.dvc/plots/offline_template.html:
	bash scripts/build_plots_template.sh

setup: $(BIN)/.installed .dvc/plots/offline_template.html

pipeline:
	$(BIN)/dvc repro
	$(BIN)/python -m rarewatch.report

# One pytest worker per core (pytest-xdist); each test builds its own data and project directory.
test: setup
	$(BIN)/python -m pytest -q -n auto

test-fast: setup
	$(BIN)/python -m pytest -q -n auto -m "not slow"

lint:
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m rarewatch.pipeline.dvcfile --check

# dvc.yaml is generated from src/rarewatch/pipeline/spec.py and the stages' imports.
dvc.yaml:
	$(BIN)/python -m rarewatch.pipeline.dvcfile

# A fresh `dvc repro` must reproduce the committed dvc.lock; only the wall-clock file may differ.
reproduce: setup
	$(BIN)/dvc repro
	$(BIN)/python -m rarewatch.pipeline.lockcheck

ui:
	@$(BIN)/python -m rarewatch.ui
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false $(BIN)/mlflow ui --host 127.0.0.1 --port 5000 --workers 1 \
		--backend-store-uri sqlite:///$(abspath mlflow.db)

# A shared MLflow tracking server on PostgreSQL (Debian's postgresql package) on 127.0.0.1, until Ctrl-C;
# it prints the URI to use. DIR keeps its database and artifacts between starts.
tracking-server: setup
	$(BIN)/python -m rarewatch.tracking_server $(or $(DIR),.rarewatch/tracking-server)

# `dvc exp show` in 120 columns: the headline figures, the model and the settings that differ.
# (--drop patterns match whole column names; stage dependencies and outputs hold ':' or '/'.)
EXP_DROP := Created|State|Executor|pr_no_skill|degenerate|val_roc_auc|val_pr_auc|savings|recall|event_recall|precision|models|.*[:/].*|model\.(?!name$$).*
exps:
	COLUMNS=$${COLUMNS:-120} $(BIN)/dvc exp show --no-pager --only-changed --drop '$(EXP_DROP)'

plots: .dvc/plots/offline_template.html
	$(BIN)/dvc plots show --out dvc_plots
	@echo "open dvc_plots/index.html (works offline)"

params:
	$(BIN)/python -m rarewatch.composition

clean:
	rm -rf data models metrics dvc_plots outputs multirun .rarewatch

# `make real DATA=<experiment>`: one real-data experiment from conf/experiment/ (paper_mill_ae, secom_ae,
# kdd_ae, fridge_dense_ae, fridge_lstm_classifier) run in-process by rarewatch-sweep, logged to MLflow.
# Extra Hydra overrides go in ARGS, e.g. make real DATA=secom_ae ARGS='model.max_epochs=5 trainer.progress_bar=false'
.PHONY: real
real: $(if $(DATA),setup)  # no DATA: print the usage line without installing anything first
	@test -n "$(DATA)" || { echo "usage: make real DATA=<experiment>; experiments: $(basename $(notdir $(wildcard conf/experiment/*.yaml)))"; exit 2; }
	$(BIN)/rarewatch-sweep +experiment=$(DATA) $(ARGS)
