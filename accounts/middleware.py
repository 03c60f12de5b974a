from accounts.request_info import current_ip
from shared.client_ip import client_ip


class AuditContextMiddleware:
    """Makes the client IP available to audit_record() for the length of the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)
