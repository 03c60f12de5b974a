"""Re-encrypt every stored EncryptedTextField value under the first FIELD_ENCRYPTION_KEY.

Rotation, step by step (README.md "Rotating the encryption key"):
  1. FIELD_ENCRYPTION_KEY=NEW,OLD  (restart: new values are written under NEW, old ones still open)
  2. manage.py rotate_encryption_key
  3. FIELD_ENCRYPTION_KEY=NEW      (restart: OLD is gone)

Resumable: a value already under the first key is left alone, so a run that was stopped simply
starts again and skips what is done. Each batch is one transaction, and a value is written back
only if the column still holds the token that was read, so a row the application changed in the
meantime (already under the new key) is never overwritten. Keyed hashes use FIELD_HASH_KEY and are
not touched.
"""

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from accounts import crypto
from accounts.fields import EncryptedTextField


def encrypted_columns() -> list[tuple[type, list]]:
    """Every concrete model with its own EncryptedTextField columns (inherited ones belong to the parent)."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [
            field
            for field in model._meta.local_concrete_fields
            if isinstance(field, EncryptedTextField) and field.model is model
        ]
        if fields:
            found.append((model, fields))
    return found


class Command(BaseCommand):
    help = "Re-encrypt every encrypted column under the first FIELD_ENCRYPTION_KEY (resumable, in batches)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000, help="rows per transaction (default 1000)")
        parser.add_argument(
            "--model", action="append", default=[], help="only this model (app_label.ModelName); repeatable"
        )

    def handle(self, *args, batch_size, model, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        targets = encrypted_columns()
        if model:
            wanted = {name.lower() for name in model}
            targets = [(m, f) for m, f in targets if m._meta.label_lower in wanted]
            if len(targets) != len(wanted):
                raise CommandError(f"no encrypted columns in: {', '.join(sorted(wanted))}")
        total_rotated = total_failed = 0
        for target, fields in targets:
            rotated, failed = self.rotate_model(target, fields, batch_size)
            total_rotated += rotated
            total_failed += failed
        self.stdout.write(f"Done: {total_rotated} value(s) re-encrypted under the first key.")
        if total_failed:
            raise CommandError(
                f"{total_failed} value(s) could not be decrypted with any key in FIELD_ENCRYPTION_KEY; "
                "they were left as they are (put the key they were written with back in the list and run again)."
            )

    def rotate_model(self, model, fields, batch_size) -> tuple[int, int]:
        table = connection.ops.quote_name(model._meta.db_table)
        pk = connection.ops.quote_name(model._meta.pk.column)
        columns = [connection.ops.quote_name(field.column) for field in fields]
        label = f"{model._meta.label} ({', '.join(field.name for field in fields)})"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - quoted identifiers from the models
            count = cursor.fetchone()[0]
        self.stdout.write(f"{label}: {count} row(s)")
        seen = rotated = failed = 0
        last = None
        while True:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    after = f"WHERE {pk} > %s " if last is not None else ""
                    cursor.execute(
                        f"SELECT {pk}, {', '.join(columns)} FROM {table} {after}ORDER BY {pk} LIMIT %s FOR UPDATE",  # noqa: S608 - quoted identifiers
                        [last, batch_size] if last is not None else [batch_size],
                    )
                    rows = cursor.fetchall()
                    if not rows:
                        break
                    for position, column in enumerate(columns, start=1):
                        updates = []
                        for row in rows:
                            token = row[position]
                            if not token or crypto.is_under_current_key(token):
                                continue
                            try:
                                updates.append((crypto.rotate(token), row[0], token))
                            except ImproperlyConfigured:
                                failed += 1
                                self.stderr.write(f"  {label}: row {row[0]} {column}: no key opens this value")
                        if updates:
                            cursor.executemany(
                                f"UPDATE {table} SET {column} = %s WHERE {pk} = %s AND {column} = %s",  # noqa: S608 - quoted identifiers
                                updates,
                            )
                            rotated += len(updates)
            last = rows[-1][0]
            seen += len(rows)
            self.stdout.write(f"  {label}: {seen}/{count} rows checked, {rotated} value(s) re-encrypted")
        return rotated, failed
