"""backup catalogue

Revision ID: core_0005
Revises: core_0004
Create Date: 2026-11-26

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = "core_0005"
down_revision: Union[str, Sequence[str], None] = "core_0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
