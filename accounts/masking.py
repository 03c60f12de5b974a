"""The one place personal data is masked for display (lists, exports, public pages, logs)."""


def mask_middle(value: str | None, *, keep_start: int, keep_end: int, char: str = "*") -> str:
    if not value:
        return ""
    value = str(value)
    if len(value) <= keep_start + keep_end:
        return char * len(value)
    return value[:keep_start] + char * (len(value) - keep_start - keep_end) + value[len(value) - keep_end :]


def mask_phone(value: str | None) -> str:
    """13812345678 -> 138****5678"""
    return mask_middle(value, keep_start=3, keep_end=4)


def mask_id_number(value: str | None) -> str:
    """420981199001011234 -> 4209**********1234"""
    return mask_middle(value, keep_start=4, keep_end=4)


def mask_name(value: str | None, *, keep_last: bool = False) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***. With `keep_last` (the public-notice style of disclosure lists), names of
    three characters or more keep their last one too: 张三丰 -> 张*丰, 欧阳娜娜 -> 欧**娜, and still 张三 -> 张*."""
    keep_end = 1 if keep_last and value and len(str(value)) > 2 else 0
    return mask_middle(value, keep_start=1, keep_end=keep_end)
