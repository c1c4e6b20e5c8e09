# One venv, two commands: `make run` starts everything, `make test` passes the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install proto lint clean browser

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	OMS_DEV=1 $(BIN)/python manage.py up

test: $(STAMP) browser
	OMS_DEV=1 $(BIN)/python -m pytest

# The admin's browser test drives Debian's headless Chromium; install it when missing (needs root/apt).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) || \
	  echo "warning: chromium/chromium-driver not installed; the admin browser test will be skipped"

proto: $(STAMP)
	$(BIN)/python -m grpc_tools.protoc -I./proto --python_out=./proto --pyi_out=./proto --grpc_python_out=./proto ./proto/oms.proto

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV)
