"""Column types shared by the models and the migrations."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

#: Primary keys: BIGINT on PostgreSQL, the rowid alias INTEGER on SQLite.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC without a zone, read back as an aware UTC time.

    The integration schema says times are UTC. Storing them zone-less keeps the
    columns plain ``timestamp`` on PostgreSQL and sortable text on SQLite, and
    lets SQL take a timestamp's UTC date with a plain cast.
    """

    impl = sa.DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value


def word_enum(cls: type[enum.Enum], name: str) -> sa.Enum:
    """A VARCHAR holding an enum's snake_case value (never a native database enum,
    so that other systems can read and write the plain word)."""
    return sa.Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=False,
        length=40,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
