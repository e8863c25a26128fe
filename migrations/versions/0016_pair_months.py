"""pair_checkin_month: meetings held and missed per organization and UTC month,
kept by triggers, so the organizers' pairs overview reads a few rows whatever
the number of pairs (issue 19)

The triggers count every write, whoever makes it: the ORM, a bulk statement, or
a cascade (deleting a member deletes their pairs, and those the check-ins).

- a check-in inserted, deleted or updated (status, date or pair): its old
  month loses it, its new month gains it, when it counts ('met' as held,
  'missed' and 'skipped' as missed);
- a pair deleted: before the row goes, its check-ins are subtracted from their
  months, because when the database cascades to the check-ins the pair is
  already gone and their own trigger finds no organization to count them in
  (it then does nothing, so nothing is counted twice). When the ORM deletes a
  pair it deletes the check-ins first, which count themselves out; the pair
  then has none left to subtract.

SQLite stores UTC instants as 'YYYY-MM-DD HH:MM:SS…' text, so a month is its
first seven characters; PostgreSQL formats the instant in UTC.
``mixer.pairs.tallies.check`` recounts from the check-ins and lists differences.

Revision ID: 0016_pair_months
Revises: 0015_workers
Create Date: 2026-12-06 03:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_pair_months'
down_revision = '0015_workers'
branch_labels = None
depends_on = None

COUNTED = "('met', 'missed', 'skipped')"

SQLITE_ADD = """
    INSERT INTO pair_checkin_month (org_id, month, held, missed)
    SELECT org_id, substr({row}.due_at, 1, 7),
           {sign} * ({row}.status = 'met'), {sign} * ({row}.status <> 'met')
    FROM pair WHERE pair.id = {row}.pair_id AND {row}.status IN {counted}
    ON CONFLICT (org_id, month) DO UPDATE
    SET held = held + excluded.held, missed = missed + excluded.missed;
"""

SQLITE = [
    f"""CREATE TRIGGER pair_checkin_month_insert AFTER INSERT ON pair_checkin
    BEGIN {SQLITE_ADD.format(row='NEW', sign=1, counted=COUNTED)} END""",
    f"""CREATE TRIGGER pair_checkin_month_delete AFTER DELETE ON pair_checkin
    BEGIN {SQLITE_ADD.format(row='OLD', sign=-1, counted=COUNTED)} END""",
    f"""CREATE TRIGGER pair_checkin_month_update
    AFTER UPDATE OF status, due_at, pair_id ON pair_checkin
    WHEN OLD.status IS NOT NEW.status OR OLD.due_at IS NOT NEW.due_at
         OR OLD.pair_id IS NOT NEW.pair_id
    BEGIN
    {SQLITE_ADD.format(row='OLD', sign=-1, counted=COUNTED)}
    {SQLITE_ADD.format(row='NEW', sign=1, counted=COUNTED)}
    END""",
    f"""CREATE TRIGGER pair_checkin_month_pair_delete BEFORE DELETE ON pair
    BEGIN
    UPDATE pair_checkin_month
    SET held = pair_checkin_month.held - gone.held,
        missed = pair_checkin_month.missed - gone.missed
    FROM (
        SELECT substr(due_at, 1, 7) AS month,
               sum(status = 'met') AS held, sum(status <> 'met') AS missed
        FROM pair_checkin WHERE pair_id = OLD.id AND status IN {COUNTED}
        GROUP BY 1
    ) AS gone
    WHERE pair_checkin_month.org_id = OLD.org_id
      AND pair_checkin_month.month = gone.month;
    END""",
]

POSTGRESQL = [
    f"""CREATE FUNCTION pair_checkin_month_count(
        p_pair integer, p_due timestamptz, p_status varchar, p_sign integer
    ) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        IF p_status NOT IN {COUNTED} THEN RETURN; END IF;
        INSERT INTO pair_checkin_month (org_id, month, held, missed)
        SELECT org_id, to_char(p_due AT TIME ZONE 'UTC', 'YYYY-MM'),
               p_sign * (p_status = 'met')::int, p_sign * (p_status <> 'met')::int
        FROM pair WHERE pair.id = p_pair
        ON CONFLICT (org_id, month) DO UPDATE
        SET held = pair_checkin_month.held + excluded.held,
            missed = pair_checkin_month.missed + excluded.missed;
    END $$""",
    """CREATE FUNCTION pair_checkin_month_row() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            PERFORM pair_checkin_month_count(OLD.pair_id, OLD.due_at, OLD.status, -1);
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            PERFORM pair_checkin_month_count(NEW.pair_id, NEW.due_at, NEW.status, 1);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER pair_checkin_month_insert_delete
    AFTER INSERT OR DELETE ON pair_checkin
    FOR EACH ROW EXECUTE FUNCTION pair_checkin_month_row()""",
    """CREATE TRIGGER pair_checkin_month_update
    AFTER UPDATE OF status, due_at, pair_id ON pair_checkin
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
        OR OLD.due_at IS DISTINCT FROM NEW.due_at
        OR OLD.pair_id IS DISTINCT FROM NEW.pair_id)
    EXECUTE FUNCTION pair_checkin_month_row()""",
    f"""CREATE FUNCTION pair_checkin_month_pair_gone() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE pair_checkin_month AS m
        SET held = m.held - gone.held, missed = m.missed - gone.missed
        FROM (
            SELECT to_char(due_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month,
                   count(*) FILTER (WHERE status = 'met') AS held,
                   count(*) FILTER (WHERE status <> 'met') AS missed
            FROM pair_checkin WHERE pair_id = OLD.id AND status IN {COUNTED}
            GROUP BY 1
        ) AS gone
        WHERE m.org_id = OLD.org_id AND m.month = gone.month;
        RETURN OLD;
    END $$""",
    """CREATE TRIGGER pair_checkin_month_pair_delete BEFORE DELETE ON pair
    FOR EACH ROW EXECUTE FUNCTION pair_checkin_month_pair_gone()""",
]

DROP = {
    "sqlite": [
        "DROP TRIGGER pair_checkin_month_insert",
        "DROP TRIGGER pair_checkin_month_delete",
        "DROP TRIGGER pair_checkin_month_update",
        "DROP TRIGGER pair_checkin_month_pair_delete",
    ],
    "postgresql": [
        "DROP TRIGGER pair_checkin_month_insert_delete ON pair_checkin",
        "DROP TRIGGER pair_checkin_month_update ON pair_checkin",
        "DROP TRIGGER pair_checkin_month_pair_delete ON pair",
        "DROP FUNCTION pair_checkin_month_row()",
        "DROP FUNCTION pair_checkin_month_pair_gone()",
        "DROP FUNCTION pair_checkin_month_count(integer, timestamptz, varchar, integer)",
    ],
}

# The months of the check-ins already there (the same rule as the triggers).
BACKFILL = {
    "sqlite": "substr(pair_checkin.due_at, 1, 7)",
    "postgresql": "to_char(pair_checkin.due_at AT TIME ZONE 'UTC', 'YYYY-MM')",
}


def upgrade():
    op.create_table(
        'pair_checkin_month',
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('held', sa.Integer(), nullable=False),
        sa.Column('missed', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['org_id'], ['organization.id'],
            name=op.f('fk_pair_checkin_month_org_id_organization'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('org_id', 'month', name=op.f('pk_pair_checkin_month')),
    )
    with op.batch_alter_table('pair', schema=None) as batch_op:
        batch_op.create_index(
            'ix_pair_org_created', ['org_id', 'created_at', 'id'], unique=False
        )
    dialect = op.get_bind().dialect.name
    month = BACKFILL[dialect]
    op.execute(
        f"""INSERT INTO pair_checkin_month (org_id, month, held, missed)
        SELECT pair.org_id, {month},
               sum(CASE WHEN pair_checkin.status = 'met' THEN 1 ELSE 0 END),
               sum(CASE WHEN pair_checkin.status <> 'met' THEN 1 ELSE 0 END)
        FROM pair_checkin JOIN pair ON pair.id = pair_checkin.pair_id
        WHERE pair_checkin.status IN {COUNTED}
        GROUP BY pair.org_id, {month}"""
    )
    for statement in SQLITE if dialect == "sqlite" else POSTGRESQL:
        op.execute(statement)


def downgrade():
    for statement in DROP[op.get_bind().dialect.name]:
        op.execute(statement)
    with op.batch_alter_table('pair', schema=None) as batch_op:
        batch_op.drop_index('ix_pair_org_created')
    op.drop_table('pair_checkin_month')
