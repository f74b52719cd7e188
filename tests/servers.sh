#!/usr/bin/env bash
# Makes sure what the test suite needs is installed and running on this machine:
# the sqlite3, psql and mariadb clients, and PostgreSQL and MariaDB servers on
# 127.0.0.1 (postgres with trust auth, root with an empty password).
# Installs missing Debian packages (needs root) and starts stopped servers.
# Exits non-zero, loudly, if a server still can't be reached.
set -uo pipefail

need_apt=()
command -v sqlite3 >/dev/null || need_apt+=(sqlite3)
command -v psql >/dev/null || need_apt+=(postgresql-client)
command -v mariadb >/dev/null || need_apt+=(mariadb-client)
command -v pg_ctlcluster >/dev/null || need_apt+=(postgresql)
[ -x /usr/sbin/mariadbd ] || need_apt+=(mariadb-server)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "servers.sh: installing ${need_apt[*]}" >&2
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >&2
  else
    echo "servers.sh: not root; install ${need_apt[*]} yourself" >&2
  fi
fi

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
my_up() { mariadb -h 127.0.0.1 -P 3306 -u root -e 'SELECT 1' >/dev/null 2>&1; }

if ! pg_up && command -v pg_ctlcluster >/dev/null; then
  echo "servers.sh: starting PostgreSQL" >&2
  for v in $(ls /etc/postgresql 2>/dev/null); do
    pg_ctlcluster --skip-systemctl-redirect "$v" main start >&2 || true
  done
fi
if ! my_up && [ -x /usr/sbin/mariadbd ]; then
  echo "servers.sh: starting MariaDB" >&2
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd >&2 || true
fi

status=0
for i in $(seq 1 30); do pg_up && break; sleep 1; done
pg_up || { echo "servers.sh: PostgreSQL is NOT reachable at 127.0.0.1:5432" >&2; status=1; }
for i in $(seq 1 30); do my_up && break; sleep 1; done
my_up || { echo "servers.sh: MariaDB is NOT reachable at 127.0.0.1:3306" >&2; status=1; }
[ $status = 0 ] && echo "servers.sh: PostgreSQL and MariaDB are up" >&2
exit $status
