from django.db import migrations

# 0003 refuses UPDATE and DELETE row by row; TRUNCATE fires no row triggers, so it needs its own
# statement trigger. The only way past it is to say so on the connection
# (SET govcms.allow_audit_truncate = 'on'), which the test suite does for Django's flush between
# transactional tests and no code of the application does. The restricted application role
# (scripts/db_roles.py) holds no TRUNCATE privilege on this table in the first place.
FORWARD = """
CREATE FUNCTION accounts_auditlog_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('govcms.allow_audit_truncate', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit log entries cannot be truncated' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER accounts_auditlog_no_truncate
    BEFORE TRUNCATE ON accounts_auditlog
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_auditlog_refuse_truncate();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS accounts_auditlog_no_truncate ON accounts_auditlog;
DROP FUNCTION IF EXISTS accounts_auditlog_refuse_truncate();
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_department_tree_base")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
