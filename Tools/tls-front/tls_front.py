#!/usr/bin/env python3
"""A TLS front for a plain test server (what stunnel does): accepts TLS on 127.0.0.1:LISTEN_PORT with CERT and KEY,
and pipes each connection to 127.0.0.1:UPSTREAM_PORT in clear. The tests put it before the notify sandbox's SMTP
server, so notification's mail goes over smtps:// with the server's certificate verified, as it would to a real
relay. Standard library only; stops on SIGTERM.

    tls_front.py LISTEN_PORT UPSTREAM_PORT CERT KEY
"""
import signal
import socket
import ssl
import sys
import threading


def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(conn, upstream_port):
    try:
        upstream = socket.create_connection(("127.0.0.1", upstream_port), timeout=10)
    except OSError:
        conn.close()
        return
    upstream.settimeout(None)
    threading.Thread(target=pipe, args=(upstream, conn), daemon=True).start()
    pipe(conn, upstream)


def main():
    listen_port, upstream_port, cert, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", listen_port))
    server.listen(64)
    # A parent may have blocked SIGTERM (the Swift test runner does), and children inherit the mask.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"tls front listening on 127.0.0.1:{listen_port} -> 127.0.0.1:{upstream_port}", flush=True)
    while True:
        raw, _ = server.accept()
        try:
            conn = context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()  # a client that refused our certificate (the wrong-CA case)
            continue
        threading.Thread(target=serve, args=(conn, upstream_port), daemon=True).start()


if __name__ == "__main__":
    main()
