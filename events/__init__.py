DB_ALIAS = "events"  # events_db
