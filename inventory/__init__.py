DB_ALIAS = "seats"  # seats_db
