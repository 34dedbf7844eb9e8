"""jobs, the durable outbox, mail outbox, opt-outs and bounces

Revision ID: tenant_0011
Revises: tenant_0010
Create Date: 2026-11-26

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = "tenant_0011"
down_revision: Union[str, Sequence[str], None] = "tenant_0010"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
