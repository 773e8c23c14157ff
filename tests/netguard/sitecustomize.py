"""Loaded by the offline-W&B test's subprocess: records every name lookup and non-local connection
Python makes, so the test can assert an offline run never tries to reach a server."""
import os
import socket

_LOG = os.environ["TFNAS_NETGUARD_LOG"]
_LOCAL = {"localhost", "127.0.0.1", "::1", None, ""}


def _note(what):
    with open(_LOG, "a", encoding="utf-8") as handle:
        handle.write(f"{what}\n")


_getaddrinfo = socket.getaddrinfo


def getaddrinfo(host, *args, **kwargs):
    if host not in _LOCAL:
        _note(f"getaddrinfo {host}")
    return _getaddrinfo(host, *args, **kwargs)


_connect = socket.socket.connect


def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in _LOCAL:
        _note(f"connect {address}")
    return _connect(self, address)


socket.getaddrinfo = getaddrinfo
socket.socket.connect = connect
