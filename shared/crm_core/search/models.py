"""The tenant's search vocabulary: every distinct word of the searchable records' search texts.

Global search corrects a typo by looking up, per query word, the closest word of this table
(trigram candidates from a GIN index, a few milliseconds at any size) and then searching for the
corrected words the ordinary way. Comparing the query with every record's whole search text
instead costs a trigram scan of the records themselves, which for common syllables is most of
the table.

Triggers keep it filled (migration ``tenant_0015``): after any INSERT or UPDATE statement on
customers, contacts or leads, the words of the rows it wrote that are not there yet are added
(one statement per statement, also for COPY). Words are not unique by constraint on purpose: a
unique key would make a transaction adding a new word wait for any other open transaction that
added the same one (a long import would hold up every write sharing a word with it, and two
writers could deadlock); two writers adding the same new word at once leave it twice, which
costs nothing. Words never leave it when records change: a stale word only makes a
correction that then finds nothing. Only words of 3 to 64 characters with a Latin letter and no
digit are kept (pinyin, English), and e-mail addresses; phone digits, codes and Chinese
characters are not corrected this way.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Identity, Index, Text, column
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import TenantBase

# The partial indexes' predicate, written into queries as a constant so the planner can use them.
EMAIL = "%@%"


class SearchWord(TenantBase):
    __tablename__ = "search_words"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    word: Mapped[str] = mapped_column(Text, nullable=False)

    __table_args__ = (
        Index("ix_search_words_word", "word"),
        # E-mail addresses in an index of their own: a name's look-up never reads them.
        Index(
            "ix_search_words_trgm",
            "word",
            postgresql_using="gin",
            postgresql_ops={"word": "gin_trgm_ops"},
            postgresql_where=column("word").not_like(EMAIL),
        ),
        Index(
            "ix_search_words_email_trgm",
            "word",
            postgresql_using="gin",
            postgresql_ops={"word": "gin_trgm_ops"},
            postgresql_where=column("word").like(EMAIL),
        ),
    )
