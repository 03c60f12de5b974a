"""Who is asking, from where: the client IP (shared.client_ip) carried to services without passing the request."""

import contextvars

current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_ip", default=None)
