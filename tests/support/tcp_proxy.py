"""A TCP proxy on loopback that a test can cut, to put a server out of reach of the panel's
processes without touching the server itself (or the other tests using it).

Two ways to fail, as networks and servers do:

- `refuse()`: the server is down. Open connections are reset, new ones are refused.
- `blackhole()`: the network drops everything silently (a partition, a firewall or NAT that
  forgot the connection). Connections stay open and bytes go nowhere, so only a timeout or a
  health check can tell; new connections are accepted but lead nowhere either.

`restore()` forwards new connections again; connections black-holed before stay dead (the far end
forgot them), as after a real partition.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading

_CHUNK = 65536


class TcpProxy:
    """127.0.0.1:`port` → `target_host`:`target_port`."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._lock = threading.Lock()
        self._pipes: set[_Pipe] = set()
        self._listener = self._listen(0)
        self.port: int = self._listener.getsockname()[1]
        self._accepting = threading.Thread(target=self._accept, args=(self._listener,), daemon=True)
        self._accepting.start()
        self.state = "open"

    def refuse(self) -> None:
        """The server is down: reset every connection and refuse new ones."""
        with self._lock:
            self.state = "refused"
            listener, self._listener = self._listener, None
            pipes, self._pipes = self._pipes, set()
        if listener is not None:
            listener.close()
        for pipe in pipes:
            pipe.reset()

    def blackhole(self) -> None:
        """The network drops everything: nothing is forwarded any more, nothing is closed."""
        with self._lock:
            self.state = "blackhole"
            for pipe in self._pipes:
                pipe.dead = True

    def restore(self) -> None:
        """Forward new connections again."""
        with self._lock:
            self.state = "open"
            if self._listener is None:
                self._listener = self._listen(self.port)
                threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def close(self) -> None:
        self.refuse()
        # Black-holed connections that nobody closed would keep their threads waiting.
        self.state = "closed"

    def _listen(self, port: int) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        # Closing a socket does not wake a thread blocked in accept(): look up now and then.
        listener.settimeout(0.1)
        return listener

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # the listener was closed: refused
            client.settimeout(None)
            with self._lock:
                state = self.state
            if state == "blackhole":
                pipe = _Pipe(client, None)
                pipe.dead = True
            else:
                try:
                    server = socket.create_connection(self.target, timeout=5)
                except OSError:
                    _reset(client)
                    continue
                pipe = _Pipe(client, server)
            with self._lock:
                if self._listener is not listener:  # refused meanwhile
                    pipe.reset()
                    return
                self._pipes.add(pipe)
            threading.Thread(target=self._pump, args=(pipe,), daemon=True).start()

    def _pump(self, pipe: _Pipe) -> None:
        pipe.run(lambda: self.state == "closed")
        with self._lock:
            self._pipes.discard(pipe)


class _Pipe:
    """One proxied connection: copies bytes both ways until either side closes."""

    def __init__(self, client: socket.socket, server: socket.socket | None) -> None:
        self.client = client
        self.server = server
        self.dead = False

    def run(self, closing) -> None:
        sockets = [s for s in (self.client, self.server) if s is not None]
        with selectors.DefaultSelector() as selector:
            for sock in sockets:
                selector.register(sock, selectors.EVENT_READ)
            while not closing():
                if self.dead:
                    # Read nothing, close nothing: the peers wait until their own timeouts.
                    threading.Event().wait(0.1)
                    continue
                try:
                    ready = selector.select(timeout=0.1)
                except (OSError, ValueError):
                    return  # reset from another thread
                for key, _ in ready:
                    source = key.fileobj
                    target = self.server if source is self.client else self.client
                    try:
                        data = source.recv(_CHUNK)
                    except OSError:
                        data = b""
                    if not data or target is None or self.dead:
                        if not self.dead:
                            self.close()
                            return
                        continue
                    try:
                        target.sendall(data)
                    except OSError:
                        self.close()
                        return
        self.reset()

    def close(self) -> None:
        for sock in (self.client, self.server):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()

    def reset(self) -> None:
        """Close with a TCP reset, as a crashed server's kernel answers."""
        for sock in (self.client, self.server):
            if sock is not None:
                _reset(sock)


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
