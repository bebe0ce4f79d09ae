#!/usr/bin/env bash
# Runs the whole app on this machine: Redis, one pipeline worker, Streamlit and the HTTP API. Ctrl-C stops them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh app

export REDIS_URL="${REDIS_URL:-redis://localhost:6379/0}"
export DATA_DIR="${DATA_DIR:-./data}"
port="${PORT:-8501}"
api_port="${API_PORT:-8000}"
mkdir -p "$DATA_DIR/redis"
# Each service runs in its own session, so Ctrl-C reaches only this script, which then stops them in
# order: the app, the API and the worker first (the worker finishes its current step), Redis last.
app_pids=()
redis_pid=""
stop() {
  trap - INT TERM EXIT
  echo; echo "Stopping..."
  for pid in "${app_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${app_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$redis_pid" ]; then kill -TERM "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
}
trap stop INT TERM EXIT

redis_port=$(.venv/bin/python -c "from redis.connection import parse_url; import os; print(parse_url(os.environ['REDIS_URL']).get('port', 6379))")
if .venv/bin/python -c "import os, redis; redis.Redis.from_url(os.environ['REDIS_URL'], socket_connect_timeout=1).ping()" 2>/dev/null; then
  echo "Using the Redis already answering at $REDIS_URL"
else
  echo "Starting Redis on port $redis_port"
  # An append-only file under DATA_DIR/redis: a restart keeps the queue (the library can rebuild it anyway).
  setsid redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$DATA_DIR/redis" --save 60 1 \
    --appendonly yes --appendfsync everysec --daemonize no --loglevel warning &
  redis_pid=$!
  for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

echo "Starting the pipeline worker"
setsid .venv/bin/python worker.py &
app_pids+=($!)

echo "Starting Streamlit on http://localhost:$port"
setsid .venv/bin/streamlit run streamlit_app.py --server.port "$port" --server.headless true &
app_pids+=($!)

echo "Starting the HTTP API on http://localhost:$api_port (documentation: /docs)"
setsid .venv/bin/python -m core serve --port "$api_port" &
app_pids+=($!)
wait -n "${app_pids[@]}" $redis_pid
