from django.urls import path

from orders.views import transfers as views

app_name = "transfers"

# Ids are plain strings parsed by the views (orders.ids): a malformed id is a 404 like an unknown one.
urlpatterns = [
    path("transfers/", views.inbox, name="inbox"),
    path("transfers/offer/<str:seat_id>/", views.offer, name="offer"),
    path("transfers/<str:transfer_id>/", views.detail, name="detail"),
    path("transfers/<str:transfer_id>/confirm/", views.confirm, name="confirm"),
    path("transfers/<str:transfer_id>/<str:action>/", views.act, name="act"),
    path("resale/mine/", views.my_listings, name="my_listings"),
    path("resale/sell/<str:seat_id>/", views.sell, name="sell"),
    path("resale/events/<str:event_id>/", views.browse, name="browse"),
    path("resale/<str:listing_id>/buy/", views.buy, name="buy"),
    path("resale/<str:listing_id>/withdraw/", views.withdraw, name="withdraw"),
]
