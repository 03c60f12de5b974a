"""What the sandbox's platforms share: the parsed request, the route marker, image sniffing, the platforms' zone,
and the plain HTTP POST its callbacks and its follower make."""

import json
import re
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class MalformedBody(ValueError):
    """The body is not the JSON object the endpoint expects."""


class Request:
    def __init__(self, environ):
        self.method = environ["REQUEST_METHOD"]
        self.path = environ.get("PATH_INFO", "") or "/"
        self.query = {key: values[0] for key, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
        self.content_type = environ.get("CONTENT_TYPE", "")
        self.authorization = environ.get("HTTP_AUTHORIZATION", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        self.body = environ["wsgi.input"].read(length) if length else b""
        self._form = None

    def json(self):
        """The body as a JSON object; MalformedBody when it is not one."""
        try:
            data = json.loads(self.body.decode("utf-8") or "{}")
        except (UnicodeDecodeError, ValueError) as error:
            raise MalformedBody from error
        if not isinstance(data, dict):
            raise MalformedBody
        return data

    def form(self):
        """(fields, files) from a urlencoded or multipart body; files map a name to (filename, bytes)."""
        if self._form is None:
            fields, files = {}, {}
            if self.content_type.startswith("multipart/form-data"):
                boundary = re.search(r'boundary="?([^";]+)"?', self.content_type)
                for part in self.body.split(b"--" + boundary.group(1).encode())[1:-1] if boundary else []:
                    head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
                    head = head.decode("utf-8", "replace")
                    name = re.search(r'\bname="([^"]*)"', head)
                    filename = re.search(r'\bfilename="([^"]*)"', head)
                    data = data.removesuffix(b"\r\n")
                    if not name:
                        continue
                    if filename:
                        files[name.group(1)] = (filename.group(1), data)
                    else:
                        fields[name.group(1)] = data.decode("utf-8", "replace")
            else:
                fields = {key: values[0] for key, values in parse_qs(self.body.decode("utf-8", "replace")).items()}
            self._form = (fields, files)
        return self._form


def route(method, path, *, mutates=True):
    def mark(function):
        function.route = (method, path, mutates)
        return function

    return mark


def image_kind(data):
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data.startswith(b"BM"):
        return "bmp"
    return None


def http_post(url: str, body: bytes, *, content_type: str, timeout: float) -> tuple[int, bytes]:
    """(status, body) of a POST to an http(s) URL; an HTTP error status is an answer, not an exception.
    ValueError for another scheme; OSError when nothing answers."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError("the URL must be http(s)")
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type}, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (scheme checked above)
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
