"""The database the import works in: the app's schema as it really is (profile), the ETL's own
schema (etl), and `rally init-db` (init)."""
