DB_ALIAS = "default"  # users_db: accounts plus Django's own apps
