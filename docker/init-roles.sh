#!/bin/sh
# Least-privilege roles, run once by the postgres image on an empty data folder
# (/docker-entrypoint-initdb.d). Names and passwords come from the compose environment.
#
# - $WORKLANE_OWNER (LOGIN): owns the database and its schema; runs the migrations, so it
#   owns every table, policy and function. The API never connects as it.
# - worklane_app / worklane_system (NOLOGIN): what request work drops to (SET ROLE inside
#   each transaction); their grants and row-level policies come from the migrations.
# - $WORKLANE_API (LOGIN NOINHERIT): the API's login. It owns nothing and has no privilege
#   of its own; it may only SET ROLE to worklane_app or worklane_system. Without ownership
#   it cannot alter tables, disable row-level security or drop policies.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner="$WORKLANE_OWNER" -v owner_password="$WORKLANE_OWNER_PASSWORD" \
  -v api="$WORKLANE_API" -v api_password="$WORKLANE_API_PASSWORD" \
  -v db="$WORKLANE_DB" <<'SQL'
CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password';
CREATE ROLE worklane_app NOLOGIN;
CREATE ROLE worklane_system NOLOGIN;
-- The owner's migrations grant to both roles and test as them.
GRANT worklane_app, worklane_system TO :"owner";
CREATE ROLE :"api" LOGIN NOINHERIT PASSWORD :'api_password';
GRANT worklane_app, worklane_system TO :"api";

CREATE DATABASE :"db" OWNER :"owner";
\connect :"db"
ALTER SCHEMA public OWNER TO :"owner";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"api";
SQL
