"""Start-up check: the name search needs a UTF-8 database.

Names are split into character bigrams in Python (`shared.bigrams.bigrams`) and matched by array
containment and LIKE, which compare bytes. Under the UTF8 encoding every character is stored whole
and a byte-wise match of valid UTF-8 is a character-wise match, so any ctype works for that: a
UTF-8 locale, or C/POSIX (C.UTF-8 is the usual default). What breaks the search is another server
encoding: SQL_ASCII stores whatever bytes arrive unchecked, and EUC_CN or LATIN1 cannot hold every
name (生僻字). A libc ctype in some other charset (zh_CN.GB18030) is refused too: PostgreSQL
would classify the UTF-8 bytes of a name with the wrong table.
"""

from django.core import checks
from django.db import connections

QUERY = "SELECT pg_encoding_to_char(encoding), datctype FROM pg_database WHERE datname = current_database()"
ACCEPTED_PLAIN_CTYPES = {"C", "POSIX"}


def database_encoding(alias: str) -> tuple[str, str]:
    with connections[alias].cursor() as cursor:
        cursor.execute(QUERY)
        return cursor.fetchone()


def ctype_is_acceptable(ctype: str) -> bool:
    if ctype in ACCEPTED_PLAIN_CTYPES:
        return True
    charset = ctype.partition(".")[2].partition("@")[0]
    return charset.replace("-", "").lower() == "utf8"


def check_database_encoding(app_configs=None, databases=None, **kwargs) -> list[checks.CheckMessage]:
    """Registered under the "database" tag: `migrate` and `check --database default` run it."""
    problems = []
    for alias in databases or ():
        if connections[alias].vendor != "postgresql":
            continue
        encoding, ctype = database_encoding(alias)
        if encoding == "UTF8" and ctype_is_acceptable(ctype):
            continue
        name = connections[alias].settings_dict["NAME"]
        problems.append(
            checks.Error(
                f"数据库“{name}”的编码为 {encoding}、字符分类（LC_CTYPE）为 {ctype}：信息公开的姓名检索需要 UTF8 编码。"
                f" The database {name!r} has encoding {encoding} and LC_CTYPE {ctype}; the disclosure name search "
                "needs a UTF8 database.",
                hint=(
                    f'重新创建数据库并导入数据 / Recreate the database and reload the data: CREATE DATABASE "{name}" '
                    "ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0; "
                    "（也可使用 zh_CN.UTF-8 等 UTF-8 区域 / any UTF-8 locale such as zh_CN.UTF-8 works too）"
                ),
                id="disclosure.E001",
            )
        )
    return problems
