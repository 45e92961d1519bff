"""A throwaway Postgres database for a benchmark."""

import uuid

import psycopg

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def setup_database() -> str:
    name = f"c360_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as con:
        con.execute(f'create database "{name}"')
    return name


def drop_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as con:
        con.execute(f'drop database if exists "{name}" with (force)')
