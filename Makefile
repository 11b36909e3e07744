# Yidi — two commands do everything on a fresh machine:
#   make run    set up, migrate, load demo data, serve http://127.0.0.1:8000 (SQLite, in-process jobs)
#   make test   set up and run the whole test suite (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)
#   make dev    the same portal with Django's debug pages, for developers

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run otp dev test setup system browser-system lint worker benchmark loadtest clean

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

system:
	@scripts/system-packages.sh

browser-system:
	@scripts/system-packages.sh --browser

# The project's bytecode compiled ahead (pip does it for the libraries), so that no process compiles
# it at start-up, also where PYTHONDONTWRITEBYTECODE is set; up-to-date files are skipped.
APPS := config core filings reimbursement clearing cooperation monitoring scripts
setup: system $(BIN)/.installed node_modules/.installed
	@$(BIN)/python -m compileall -q $(APPS) > /dev/null

# The portal as staff see it: debug pages off (Chinese error pages), plain HTTP
# on this machine, a secret key generated once into var/, SQLite and in-process jobs.
RUN_ENV = env -u DATABASE_URL -u REDIS_URL -u CACHE_URL DJANGO_DEBUG=0 DJANGO_HTTPS=0 DJANGO_STATIC_FROM_SOURCE=1 \
	DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost,$(HOST) DJANGO_SECRET_KEY="$$(cat var/secret_key)" \
	YIDI_FIELD_KEYS="k1:$$(cat var/field_key)" YIDI_BLIND_INDEX_KEY="$$(cat var/blind_index_key)"

var/secret_key:
	mkdir -p var
	$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

# The keys that encrypt ID numbers and bank accounts at rest (core.crypto), generated once.
var/field_key var/blind_index_key:
	mkdir -p var
	$(PYTHON) -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())" > $@

run: setup var/secret_key var/field_key var/blind_index_key
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput
	$(RUN_ENV) $(BIN)/python manage.py seed_demo
	$(RUN_ENV) $(BIN)/python manage.py verify_audit
	@echo "==> 异地就医经办服务平台：http://$(HOST):$(PORT)/  （Ctrl+C 停止）"
	@$(RUN_ENV) $(BIN)/python manage.py demo_otp
	@echo "    第二步输入上面的动态口令；过期后运行 make otp 再取。"
	$(RUN_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

# The demo accounts' current second-factor code (secret YIDIDEMOYIDIDEMOYIDIDEMO).
otp:
	@$(BIN)/python manage.py demo_otp

dev: setup
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python manage.py migrate --noinput
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: setup browser-system
	$(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run

# 1,000,000 settlement rows imported and cleared next to PostgreSQL's own COPY and
# GROUP BY; monitoring_report and the monitoring pages over 12 such months; every kind of
# printed form next to bare WeasyPrint (ms and KB per page; seeds the demo data if missing)
# (needs PostgreSQL: BENCH_DATABASE_URL, default a local yidi_bench database).
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/yidi_bench
benchmark: setup
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python scripts/benchmark_clearing.py
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python scripts/benchmark_monitoring.py
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python scripts/benchmark_pdfs.py

# locust against gunicorn (4 workers, production settings, loopback): signed-in clerks, supervisors,
# finance and clearing staff for LOADTEST_TIME; per-page throughput, p50/p95/p99 and errors
# (docs/performance.md). Volume first: DATABASE_URL=… manage.py seed_volume --claims N --filings N.
LOAD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/yidi_load
USERS ?= 20
LOADTEST_TIME ?= 60s
LOADTEST_PORT ?= 8113
# each user's pause between pages, seconds (MIN-MAX); the workers share the Redis cache LOADTEST_CACHE_URL
LOADTEST_THINK ?= 0.5-2
LOADTEST_CACHE_URL ?= redis://127.0.0.1:6379/12
loadtest: setup
	$(BIN)/python scripts/loadtest.py --database-url $(LOAD_DATABASE_URL) --users $(USERS) --time $(LOADTEST_TIME) \
		--port $(LOADTEST_PORT) --think $(LOADTEST_THINK) --cache-url "$(LOADTEST_CACHE_URL)"

worker: setup
	$(BIN)/celery -A config worker --loglevel=INFO --concurrency=2 --prefetch-multiplier=1 -Q yidi,yidi-imports --beat

clean:
	rm -rf $(VENV) node_modules staticfiles db.sqlite3 media
