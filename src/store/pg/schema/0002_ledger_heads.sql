-- Each member's ledger head: the value the last write to the member left (each write leaves a
-- new random one). A process credits a member only from state read at the current head and
-- moves it on in the same transaction, so processes crediting one member at once are
-- serialised by this row's lock, and the later one reads the member again.
CREATE TABLE ledger_heads (
    member  text PRIMARY KEY,
    version bigint NOT NULL
);
-- Members credited before heads existed start at the number of writes they have had.
INSERT INTO ledger_heads (member, version)
SELECT member, count(*) FROM ledger_entries GROUP BY member;
