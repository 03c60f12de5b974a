"""The local WeChat/Weibo API sandbox: `python -m publishing.sandbox` or `manage.py run_sandbox`.

Point an account's api_base_url at it (http://127.0.0.1:8100/ plays https://api.weixin.qq.com/
and https://api.weibo.com/). Platform endpoints: cgi-bin/token, cgi-bin/stable_token,
cgi-bin/media/uploadimg, cgi-bin/material/add_material, cgi-bin/draft/add,
cgi-bin/message/mass/sendall, cgi-bin/message/mass/get, 2/statuses/share.json.

Control (JSON):
  POST /_sandbox/reset                         forget everything (settings back to the start values)
  GET  /_sandbox/state                         everything received and issued
  GET  /_sandbox/sends?appid=                  the mass-sends, with their articles
  POST /_sandbox/accounts     {appid, secret, type: subscription|service, token, callback_url,
                               followers, tags: {"id": count}, report_status, original_id}
  POST /_sandbox/weibo_apps   {access_token, safe_domain, uid, screen_name, repeat_window_seconds}
  POST /_sandbox/faults       {error_rate, errors, latency_ms, slow_rate, slow_ms, drop_rate,
                               drop_after_action, seed, paths, limit}; {} clears them. Codes 500-599
                               in `errors` answer at the HTTP level.
  POST /_sandbox/clock        {offset_seconds} or {advance_seconds}
  POST /_sandbox/follower_message {appid, openid}  a follower wrote: opens message/custom/send's window
                               (48 hours, 5 messages; 45015 and 45047 otherwise)
  POST /_sandbox/config       {token_overlap_seconds, callback_delay_seconds, callback_attempts,
                               callback_retry_seconds, callback_timeout_seconds}
"""

from publishing.sandbox.app import SandboxApp, build_server

__all__ = ["SandboxApp", "build_server", "serve"]


def serve(host, port, *, state_file=None, verbose=False, announce=None):
    """Run the sandbox until interrupted; `announce(url)` is called once it listens."""
    server = build_server(host, port, SandboxApp(state_file=state_file), verbose=verbose)
    if announce:
        announce(f"http://{host}:{server.server_port}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
