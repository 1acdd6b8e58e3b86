-- Roles and database for infoflytd on PostgreSQL. Run once per cluster, as a superuser:
--
--   psql -v ON_ERROR_STOP=1 -f deploy/postgres/roles.sql
--
-- It is safe to run again: what exists is left as it is.
--
--   infoflyt_owner   owns the database and its tables and runs the schema migrations
--                    (`infoflytd --migrate-only` connected as it). No daemon serves as it.
--   infoflyt_daemon  a group role with exactly what a serving daemon needs. The migrations grant
--                    it SELECT and INSERT on the append-only tables (disclosures, merkle_nodes,
--                    checkpoints) and no UPDATE, DELETE or TRUNCATE on them, so the database
--                    refuses to let even a compromised daemon rewrite the disclosure log; UPDATE
--                    only where state changes (deliveries, flags, log_head). Triggers refuse
--                    changes to the append-only tables for every role, the owner's included.
--   infoflytd        the login the daemons use, a member of infoflyt_daemon. Several daemons may
--                    share it, or each have a login of its own in infoflyt_daemon.
--
-- No passwords are set here: set them afterwards (\password infoflytd) or use certificate or
-- peer authentication in pg_hba.conf.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'infoflyt_owner') THEN
    CREATE ROLE infoflyt_owner LOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'infoflyt_daemon') THEN
    CREATE ROLE infoflyt_daemon NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'infoflytd') THEN
    CREATE ROLE infoflytd LOGIN IN ROLE infoflyt_daemon;
  END IF;
END
$$;

-- UTF-8 (the daemon refuses anything else) and the C locale: text sorts by code point, the same
-- everywhere.
SELECT 'CREATE DATABASE infoflyt OWNER infoflyt_owner ENCODING ''UTF8'' LOCALE ''C'' '
       'TEMPLATE template0'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'infoflyt')
\gexec

REVOKE ALL ON DATABASE infoflyt FROM PUBLIC;
GRANT CONNECT ON DATABASE infoflyt TO infoflyt_daemon;

\connect infoflyt
-- Tables are made by the owner only (PostgreSQL 15 already gives the public schema to the
-- database's owner and keeps PUBLIC from creating in it; older versions do not).
ALTER SCHEMA public OWNER TO infoflyt_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO infoflyt_daemon;
