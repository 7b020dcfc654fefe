#!/bin/sh
# Runs once, when the postgres container initialises an empty data volume (docker-entrypoint-initdb.d).
# Creates the engine's own login role and database, `oms`, next to the `temporal` and
# `temporal_visibility` databases that Temporal's auto-setup creates for itself. The engine never
# connects as the superuser, so it cannot touch Temporal's data.
#
# The password comes from OMS_DB_PASSWORD (passed in by docker-compose.yml); psql's :'var' quoting
# makes any character safe here, but the same password is embedded in OMS_DATABASE_URL, so use a
# URL-safe one (e.g. `openssl rand -hex 32`).
#
# Changing OMS_DB_PASSWORD later does not change the role: this script does not run again on an
# existing volume. Use ALTER ROLE oms PASSWORD '...' for that.
set -e

: "${OMS_DB_PASSWORD:?OMS_DB_PASSWORD must be set to create the oms database role}"

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v oms_password="$OMS_DB_PASSWORD" <<'SQL'
CREATE ROLE oms LOGIN PASSWORD :'oms_password';
CREATE DATABASE oms OWNER oms;
REVOKE ALL ON DATABASE oms FROM PUBLIC;
SQL
