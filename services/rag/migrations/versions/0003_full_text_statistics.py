"""rag: finer ANALYZE statistics for chunks.tsv (the lexeme shares full-text search reads).

With the default target (100) Postgres keeps the 1,000 most common lexemes of a 30,000-row
sample, and every other lexeme is estimated at half the rarest listed share: too coarse to
tell a rare word from a middling one at 100k chunks. 1,000 keeps about 10,000 lexemes.

Revision ID: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE chunks ALTER COLUMN tsv SET STATISTICS 1000")


def downgrade() -> None:
    op.execute("ALTER TABLE chunks ALTER COLUMN tsv SET STATISTICS -1")
