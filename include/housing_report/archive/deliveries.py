"""The delivery log (table `deliveries`): every attempt to send a message, claimed before the
server is talked to (`sending`), then `sent` or `failed`; a version held back on purpose is
logged `held` with the reason (`record_held`, `deliver.hold`: nothing is handed to a server).
A unique index over the period, the recipients' key and the version superseded lets only one
attempt claim a given state; the send-once rules built on it are `deliver.ledger`'s."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from housing_report.archive.records import aware
from housing_report.archive.schema import deliveries

SENDING, SENT, FAILED = "sending", "sent", "failed"
# A version not sent on purpose (`deliver.hold`): outside the unique index, never `last_sent`.
HELD = "held"


class DeliveryConflict(RuntimeError):
    """Another delivery of this period to these recipients holds the claim."""

    def __init__(self, existing: DeliveryRow | None):
        self.existing = existing
        if existing is None:
            text = "Một lần gửi khác của kỳ này vừa nhận quyền gửi."
        else:
            text = (
                f"Lần chạy {existing.run_id} {'đang gửi' if existing.state == SENDING else 'đã gửi'} "
                f"phiên bản {existing.version} của kỳ {existing.period:%d/%m/%Y} "
                f"(Message-ID {existing.message_id})."
            )
        super().__init__(text)


@dataclass
class DeliveryRow:
    id: int
    period: dt.date
    version: int
    run_id: str
    kind: str
    recipients: list[str]
    supersedes: int
    state: str
    message_id: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    detail: str
    content_hash: str = ""


def recipients_key(addresses: Iterable[str]) -> str:
    """A stable key for a list of recipients (order and case do not matter)."""
    normalised = sorted({a.strip().lower() for a in addresses})
    return hashlib.sha256("\n".join(normalised).encode("utf-8")).hexdigest()


class DeliveryLog:
    """The delivery log's queries (a part of `ReportStore`)."""

    engine: sa.engine.Engine

    def last_sent(self, period: dt.date, key: str) -> DeliveryRow | None:
        return self._delivery_where(
            deliveries.c.period == period, deliveries.c.recipients_key == key, deliveries.c.state == SENT
        )

    def in_flight(self, period: dt.date, key: str) -> DeliveryRow | None:
        return self._delivery_where(
            deliveries.c.period == period, deliveries.c.recipients_key == key, deliveries.c.state == SENDING
        )

    def claim_delivery(
        self,
        *,
        period: dt.date,
        version: int,
        run_id: str,
        kind: str,
        recipients: Sequence[str],
        supersedes: int,
        message_id: str,
        key: str | None = None,
        content_hash: str = "",
    ) -> int:
        """Record that this version is being sent; the database refuses a second claim.

        `key` defaults to `recipients_key(recipients)`; messages of another kind (a unit's
        feedback) pass their own, so that their log never mixes with the report's.
        """
        key = key or recipients_key(recipients)
        try:
            return self._insert_delivery(
                period=period,
                version=version,
                run_id=run_id,
                kind=kind,
                recipients_key=key,
                recipients=sorted(recipients),
                supersedes=supersedes,
                state=SENDING,
                message_id=message_id,
                started_at=dt.datetime.now(dt.UTC),
                detail="",
                content_hash=content_hash,
            )
        except sa.exc.IntegrityError as exc:
            holder = self._delivery_where(
                deliveries.c.period == period,
                deliveries.c.recipients_key == key,
                deliveries.c.supersedes == supersedes,
                deliveries.c.state.in_((SENDING, SENT)),
            )
            raise DeliveryConflict(holder) from exc

    def finish_delivery(self, delivery_id: int, state: str, detail: str = "") -> None:
        with self.engine.begin() as conn:
            conn.execute(
                deliveries.update()
                .where(deliveries.c.id == delivery_id)
                .values(state=state, detail=detail, finished_at=dt.datetime.now(dt.UTC))
            )

    def record_held(
        self,
        *,
        period: dt.date,
        version: int,
        run_id: str,
        kind: str,
        recipients: Sequence[str],
        key: str,
        detail: str,
    ) -> int:
        """Log that this version was held back, not sent, and why; once per period, key and
        version (a retried task finds its row)."""
        existing = self._delivery_where(
            deliveries.c.period == period,
            deliveries.c.recipients_key == key,
            deliveries.c.version == version,
            deliveries.c.state == HELD,
        )
        if existing is not None:
            return existing.id
        now = dt.datetime.now(dt.UTC)
        return self._insert_delivery(
            period=period,
            version=version,
            run_id=run_id,
            kind=kind,
            recipients_key=key,
            recipients=sorted(recipients),
            supersedes=0,
            state=HELD,
            message_id="",
            started_at=now,
            finished_at=now,
            detail=detail,
            content_hash="",
        )

    def _insert_delivery(self, **values: Any) -> int:
        """One row of the delivery log; its id."""
        with self.engine.begin() as conn:
            inserted = conn.execute(deliveries.insert().values(**values).returning(deliveries.c.id))
            return int(inserted.scalar_one())

    def deliveries(self, period: dt.date | None = None) -> list[DeliveryRow]:
        query = sa.select(deliveries).order_by(deliveries.c.id)
        if period is not None:
            query = query.where(deliveries.c.period == period)
        with self.engine.connect() as conn:
            return [delivery_row(row) for row in conn.execute(query)]

    def _delivery_where(self, *conditions) -> DeliveryRow | None:
        query = sa.select(deliveries).where(*conditions).order_by(deliveries.c.id.desc()).limit(1)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return delivery_row(row) if row else None

    def deliveries_of(self, periods: Sequence[dt.date]) -> list[DeliveryRow]:
        """The delivery log of these periods, newest first."""
        if not periods:
            return []
        query = (
            sa.select(deliveries)
            .where(deliveries.c.period.in_(list(periods)))
            .order_by(deliveries.c.id.desc())
        )
        with self.engine.connect() as conn:
            return [delivery_row(row) for row in conn.execute(query)]


def delivery_row(row: Any) -> DeliveryRow:
    return DeliveryRow(
        id=row.id,
        period=row.period,
        version=row.version,
        run_id=row.run_id,
        kind=row.kind,
        recipients=list(row.recipients or []),
        supersedes=row.supersedes,
        state=row.state,
        message_id=row.message_id,
        started_at=aware(row.started_at),
        finished_at=aware(row.finished_at),
        detail=row.detail or "",
        content_hash=row.content_hash or "",
    )
