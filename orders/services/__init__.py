"""Business operations of the orders domain: purchase, transfer and resale orchestration, refunds, recovery."""
