"""Faults to inject: a TCP proxy on 127.0.0.1 that tests can cut and restore, to take a real
service (MariaDB, Redis) away from the application mid-test without stopping the server for
everyone else; and SIGKILL for a process and its children, as the OOM killer would send it."""

import contextlib
import os
import signal
import socket
import subprocess
import threading
from pathlib import Path


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is `pid` (a Celery worker's pool), read from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            children.append(int(stat.parent.name))
    return children


def kill_hard(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def kill_with_children(process: subprocess.Popen) -> None:
    """SIGKILL a process and its children at once: nothing gets to clean up or acknowledge."""
    children = child_pids(process.pid)
    process.kill()
    kill_hard(children)
    process.wait()


def _hang_up(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


class CuttableProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._up = True
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        """Refuse new connections and break the open ones, as a crashed server would."""
        with self._lock:
            self._up = False
            for sock in self._open:
                _hang_up(sock)
            self._open.clear()

    def restore(self) -> None:
        with self._lock:
            self._up = True

    def close(self) -> None:
        self.cut()
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if not self._up:
                    client.close()
                    continue
                try:
                    upstream = socket.create_connection(self.target, timeout=2)
                except OSError:
                    client.close()
                    continue
                upstream.settimeout(None)
                self._open.update({client, upstream})
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _hang_up(src)
            _hang_up(dst)
