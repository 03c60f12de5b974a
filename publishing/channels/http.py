"""One keep-alive HTTP session per thread for the platform APIs.

requests looks the proxy settings up in the environment again on every request (a walk over
os.environ costing about half a millisecond); a burst makes tens of thousands of calls to the same
host, so the session reads them once: proxies for the API host (honouring NO_PROXY) and the CA
bundle an office's TLS-inspecting proxy may need.
"""

import os
import threading
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import NewConnectionError

_local = threading.local()


def session_for(base_url: str) -> requests.Session:
    host = urlsplit(base_url).netloc
    sessions = getattr(_local, "sessions", None)
    if sessions is None:
        sessions = _local.sessions = {}
    if host not in sessions:
        session = requests.Session()
        session.trust_env = False
        session.proxies = requests.utils.get_environ_proxies(base_url)
        session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        sessions[host] = session
    return sessions[host]


def never_left(error: BaseException | None) -> bool:
    """A request whose connection was never made (connect timeout, refused, host name not found) carried nothing
    to the platform; any other network failure (read timeout, connection broken after sending) may hide a request
    that was carried out."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if not isinstance(error, requests.ConnectionError):
        return False
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError) or "Connection refused" in str(error)
