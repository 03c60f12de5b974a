"""WeChat calls the account's server URL: the callback server lives in publishing/channels/wechat_listen.py.

`/publishing/wechat/<id>/callback/` is the address accounts were first given; it is the same view as
`/wechat/<id>/`, so an account configured with either keeps working.
"""

from publishing.channels.wechat_listen import callback as wechat_callback

__all__ = ["wechat_callback"]
