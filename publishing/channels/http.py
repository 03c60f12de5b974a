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
