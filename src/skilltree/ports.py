"""A free TCP port on loopback, for the servers SkillTree starts itself (PgBouncer, and the
tests' and benchmarks' own servers)."""

import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now (the kernel's pick; a server started
    on it a moment later can still lose it to another process, which its start-up reports)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
