"""Pages of the orders layer: the event page and holds, checkout and orders, tickets, transfers and resale, the
gate. Each combines domains, which is why they live here rather than in events or inventory."""
