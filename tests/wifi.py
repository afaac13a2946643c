"""The hall's Wi-Fi between a tablet and the server: a TCP relay on loopback that a test can
cut (every connection dropped, new ones refused, as when the access point dies) and bring back.

Chromium's offline emulation does not reach a service worker's own requests; a link that is
really gone does."""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit

from bench.harness import free_port


class Wifi:
    def __init__(self, server_url: str) -> None:
        target = urlsplit(server_url)
        self.target = (target.hostname or "127.0.0.1", target.port or 80)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.open: set[socket.socket] = set()
        self.to_tablets = 0  # bytes the server sent through the air
        self.listener: socket.socket | None = None
        self.up()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        """The access point dies: what is open breaks, what is new is refused."""
        with self.lock:
            listener, self.listener = self.listener, None
            dropped, self.open = self.open, set()
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the thread in accept()
            except OSError:
                pass
            listener.close()
        for connection in dropped:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            connection.close()

    def close(self) -> None:
        self.down()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                tablet, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                server = socket.create_connection(self.target)
            except OSError:
                tablet.close()
                continue
            with self.lock:
                if self.listener is not listener:
                    tablet.close()
                    server.close()
                    return
                self.open |= {tablet, server}
            for a, b in ((tablet, server), (server, tablet)):
                threading.Thread(target=self._pump, args=(a, b, b is tablet), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, down: bool) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
                if down:
                    with self.lock:
                        self.to_tablets += len(chunk)
        except OSError:
            pass
        finally:
            with self.lock:
                self.open -= {source, sink}
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()
