"""A TLS server on 127.0.0.1 that records what each client sent in its handshake."""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass, field

from tests.components.peers.processes import LOOPBACK


@dataclass(frozen=True)
class Handshake:
    """One connection as the server saw it."""

    completed: bool
    sni: str | None = None
    alpn: str | None = None
    session_reused: bool = False
    error: str = ""
    received: bytes = b""


@dataclass
class TlsRecorder:
    """Accepts TLS with ALPN `mqtt` offered; echoes data back prefixed by b'echo:'."""

    cert: str
    key: str
    handshakes: list[Handshake] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._sni: dict[int, str | None] = {}
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        context.set_alpn_protocols(["mqtt"])
        context.sni_callback = self._on_sni
        self._context = context
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((LOOPBACK, 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _on_sni(self, ssl_socket: ssl.SSLSocket, server_name: str | None, _context: ssl.SSLContext) -> None:
        with self._lock:
            self._sni[id(ssl_socket)] = server_name

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                raw, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(raw,), daemon=True).start()

    def _handle(self, raw: socket.socket) -> None:
        raw.settimeout(5)
        tls = self._context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
        try:
            tls.do_handshake()
        except (ssl.SSLError, OSError) as error:
            self._record(Handshake(completed=False, error=str(error)))
            tls.close()
            return
        with self._lock:
            sni = self._sni.pop(id(tls), None)
        alpn = tls.selected_alpn_protocol()
        reused = tls.session_reused
        received = b""
        try:
            while True:
                data = tls.recv(4096)
                if not data:
                    break
                received += data
                tls.sendall(b"echo:" + data)
        except (ssl.SSLError, OSError):
            pass
        finally:
            tls.close()
        self._record(Handshake(completed=True, sni=sni, alpn=alpn, session_reused=reused, received=received))

    def _record(self, handshake: Handshake) -> None:
        with self._lock:
            self.handshakes.append(handshake)

    def snapshot(self) -> list[Handshake]:
        with self._lock:
            return list(self.handshakes)

    def clear(self) -> None:
        with self._lock:
            self.handshakes.clear()

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()
