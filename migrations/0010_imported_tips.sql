-- Records commits read whole into this store: the records ref only grows, so a tip read once
-- need not be walked again (what keeps a server's check cheap with many records). Kept in the
-- store itself, so a store that is lost or replaced forgets them too and reads everything again.
CREATE TABLE imported_tips (
    tip TEXT PRIMARY KEY
) WITHOUT ROWID;
