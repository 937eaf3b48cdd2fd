DB_ALIAS = "orders"  # orders_db
