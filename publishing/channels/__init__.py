from publishing.models import Platform


def channel_for(account):
    """The Channel (see channels/base.py) that talks to this account's platform."""
    if account.platform == Platform.WECHAT:
        from publishing.channels.wechat import WeChatChannel

        return WeChatChannel(account)
    if account.platform == Platform.WEIBO:
        from publishing.channels.weibo import WeiboChannel

        return WeiboChannel(account)
    from publishing.channels.portal import PortalChannel

    return PortalChannel(account)
