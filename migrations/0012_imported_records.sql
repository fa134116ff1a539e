-- Generation record files (named by their content) already read into this store: a generation
-- may have several (its author's, and one someone pushed first under the same id), and each is
-- read once, its lines added to the generation's.
CREATE TABLE imported_records (
    path TEXT PRIMARY KEY
) WITHOUT ROWID;
