"""A Citus cluster on loopback: a coordinator and two workers of a local PostgreSQL into which
Citus is installed (it builds nothing: README.md beside this file says how to build Citus).

    python -m scripts.citus.cluster start DIR [--no-seed]   # prints DATABASE_URL=...
    python -m scripts.citus.cluster stop DIR                # stops the nodes, removes DIR

The PostgreSQL programs are PG_BIN's, else those of `pg_config --bindir`. Each node is initdb'd
in DIR (as the `postgres` OS user when run as root), with trust authentication, TCP on
127.0.0.1 only, `shared_preload_libraries = 'citus'` and `fsync = off`; the database `skilltree`
is created with the extension on every node, the workers are registered on the coordinator, and
`skilltree db upgrade` and `skilltree db seed --demo` run on the coordinator. DIR/cluster.json
holds what `stop` (and tests/citus/conftest.py) need.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg

from skilltree.ports import free_port

DATABASE = "skilltree"
NODES = ("coordinator", "worker1", "worker2")
START_ATTEMPTS = 3
"""Starts of a node tried on a new free port each: another process may take a port between its
pick and the server's bind (skilltree.ports.free_port)."""


class CitusMissing(RuntimeError):
    """No PostgreSQL programs, or no Citus installed into them."""


def postgresql_programs() -> Path:
    """PG_BIN, else the directory of `pg_config --bindir`: a PostgreSQL with initdb and pg_ctl."""
    configured = os.environ.get("PG_BIN")
    if configured:
        programs = Path(configured)
    else:
        pg_config = shutil.which("pg_config")
        if pg_config is None:
            raise CitusMissing("no PG_BIN and no pg_config on PATH (Debian: postgresql-15)")
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        programs = Path(found.stdout.strip())
    if not (programs / "initdb").is_file() or not (programs / "pg_ctl").is_file():
        raise CitusMissing(f"no initdb and pg_ctl in {programs} (set PG_BIN)")
    return programs


def citus_library(programs: Path) -> Path:
    """Where citus.so is installed for the PostgreSQL of `programs`; CitusMissing if not."""
    pg_config = programs / "pg_config"
    if pg_config.is_file():
        found = subprocess.run([pg_config, "--pkglibdir"], capture_output=True, text=True)
        library = Path(found.stdout.strip()) / "citus.so"
    else:
        library = programs.parent / "lib" / "citus.so"
    if not library.is_file():
        raise CitusMissing(f"Citus is not installed into this PostgreSQL ({library} is missing)")
    return library


def _server_user() -> str | None:
    """The OS user the nodes run as: this one, or `postgres` when run as root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres").pw_name
    except KeyError:
        raise CitusMissing("run as root, and no `postgres` user to run the nodes as") from None


@dataclass(frozen=True)
class Node:
    name: str
    port: int
    pgdata: str

    def conninfo(self, database: str = DATABASE) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"


@dataclass(frozen=True)
class Cluster:
    directory: str
    programs: str
    user: str | None
    nodes: tuple[Node, ...]

    @property
    def coordinator(self) -> Node:
        return self.nodes[0]

    @property
    def workers(self) -> tuple[Node, ...]:
        return self.nodes[1:]

    def url(self, database: str = DATABASE) -> str:
        """The coordinator's PostgreSQL URL."""
        return f"postgresql://postgres@127.0.0.1:{self.coordinator.port}/{database}"

    def save(self) -> None:
        (Path(self.directory) / "cluster.json").write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, directory: Path) -> Cluster:
        saved = json.loads((directory / "cluster.json").read_text())
        nodes = tuple(Node(**node) for node in saved.pop("nodes"))
        return cls(nodes=nodes, **saved)


def _environment(user: str | None) -> dict[str, str]:
    """The environment of a program run as `user`: its own HOME (libpq, with which the nodes
    reach each other, reads its client certificates under it)."""
    if user is None:
        return dict(os.environ)
    return {**os.environ, "HOME": pwd.getpwnam(user).pw_dir}


def _run(command: list[str], user: str | None, env: dict[str, str] | None = None) -> None:
    environment = env if env is not None else _environment(user)
    done = subprocess.run(command, capture_output=True, text=True, user=user, env=environment)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def _pg_ctl(cluster: Cluster, node: Node, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(cluster.programs) / "pg_ctl"), "-D", node.pgdata, *args]
    return subprocess.run(
        command, capture_output=True, text=True, user=cluster.user, env=_environment(cluster.user)
    )


def _start_node(programs: Path, user: str | None, directory: Path, name: str) -> Node:
    pgdata = directory / name
    initdb = [str(programs / "initdb"), "-D", str(pgdata), "-U", "postgres", "-A", "trust"]
    _run([*initdb, "--encoding=UTF8", "--no-sync"], user)
    base = (pgdata / "postgresql.conf").read_text()
    for _ in range(START_ATTEMPTS):
        node = Node(name, free_port(), str(pgdata))
        settings = {
            "port": str(node.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": "''",
            "shared_preload_libraries": "'citus'",
            "fsync": "off",
            "max_connections": "200",
        }
        lines = "".join(f"{key} = {value}\n" for key, value in settings.items())
        (pgdata / "postgresql.conf").write_text(base + lines)
        log = directory / f"{name}.log"
        command = [str(programs / "pg_ctl"), "-D", str(pgdata), "-l", str(log), "-w", "start"]
        started = subprocess.run(command, capture_output=True, user=user, env=_environment(user))
        if started.returncode == 0:
            return node
    raise RuntimeError(f"{name} did not start: see {directory / name}.log")


def start(directory: Path, seed: bool = True) -> Cluster:
    """Start a coordinator and two workers in `directory` (made; it must not exist), create the
    database with Citus on each, register the workers, migrate and (with `seed`) seed."""
    programs = postgresql_programs()
    citus_library(programs)
    user = _server_user()
    directory.mkdir(parents=True)
    directory.chmod(0o755)
    if user is not None:
        shutil.chown(directory, user, user)
    nodes: list[Node] = []
    cluster = Cluster(str(directory), str(programs), user, ())
    try:
        for name in NODES:
            nodes.append(_start_node(programs, user, directory, name))
            cluster = Cluster(str(directory), str(programs), user, tuple(nodes))
            cluster.save()
        for node in cluster.nodes:
            with psycopg.connect(node.conninfo("postgres"), autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {DATABASE}")
            with psycopg.connect(node.conninfo(), autocommit=True) as conn:
                conn.execute("CREATE EXTENSION citus")
        with psycopg.connect(cluster.coordinator.conninfo(), autocommit=True) as conn:
            conn.execute(
                "SELECT citus_set_coordinator_host('127.0.0.1', %s)", [cluster.coordinator.port]
            )
            for worker in cluster.workers:
                conn.execute("SELECT citus_add_node('127.0.0.1', %s)", [worker.port])
        skilltree = str(Path(sys.executable).parent / "skilltree")
        env = {**os.environ, "DATABASE_URL": cluster.url()}
        _run([skilltree, "db", "upgrade"], None, env)
        if seed:
            _run([skilltree, "db", "seed", "--demo"], None, env)
    except BaseException:
        stop(cluster)
        raise
    return cluster


def stop(cluster: Cluster) -> None:
    """Stop every node of `cluster` and remove its directory."""
    for node in cluster.nodes:
        _pg_ctl(cluster, node, "-m", "immediate", "-w", "stop")
    for node in cluster.nodes:  # pg_ctl -w waited for each; the directory goes once all are down
        pid_file = Path(node.pgdata) / "postmaster.pid"
        for _ in range(100):
            if not pid_file.exists():
                break
            time.sleep(0.1)
    shutil.rmtree(cluster.directory, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m scripts.citus.cluster", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    started = commands.add_parser("start", help="start, migrate and seed a cluster in DIR")
    started.add_argument("directory", type=Path)
    started.add_argument("--no-seed", action="store_true", help="skip `db seed --demo`")
    stopped = commands.add_parser("stop", help="stop the cluster in DIR and remove DIR")
    stopped.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            cluster = start(args.directory.resolve(), seed=not args.no_seed)
            print(f"DATABASE_URL={cluster.url()}")
            for node in cluster.nodes:
                print(f"{node.name}: 127.0.0.1:{node.port} ({node.pgdata})")
        else:
            stop(Cluster.load(args.directory.resolve()))
    except CitusMissing as missing:
        sys.exit(f"citus: {missing}")


if __name__ == "__main__":
    main()
