"""survey sends and responses

Revision ID: tenant_0013
Revises: tenant_0012
Create Date: 2026-11-26

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = "tenant_0013"
down_revision: Union[str, Sequence[str], None] = "tenant_0012"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
