DROP TABLE protection_changes;
