from django.urls import path

from orders.api import transfer_views as views

# Ids are plain strings parsed by the views (orders.ids): a malformed id is a JSON 404 like an unknown one.
urlpatterns = [
    path("transfers/", views.TransferListCreateView.as_view(), name="api-transfers"),
    path("transfers/<str:transfer_id>/", views.TransferDetailView.as_view(), name="api-transfer-detail"),
    path("transfers/<str:transfer_id>/accept/", views.TransferAcceptView.as_view(), name="api-transfer-accept"),
    path("transfers/<str:transfer_id>/decline/", views.TransferDeclineView.as_view(), name="api-transfer-decline"),
    path("transfers/<str:transfer_id>/cancel/", views.TransferCancelView.as_view(), name="api-transfer-cancel"),
    path("transfers/<str:transfer_id>/send-code/", views.TransferSendCodeView.as_view(), name="api-transfer-send-code"),
    path("transfers/<str:transfer_id>/confirm/", views.TransferConfirmView.as_view(), name="api-transfer-confirm"),
    path("transfers/<str:transfer_id>/dispute/", views.TransferDisputeView.as_view(), name="api-transfer-dispute"),
    path("transfers/<str:transfer_id>/reverse/", views.TransferReverseView.as_view(), name="api-transfer-reverse"),
    path("listings/", views.ListingListCreateView.as_view(), name="api-listings"),
    path("listings/<str:listing_id>/", views.ListingDetailView.as_view(), name="api-listing-detail"),
    path("listings/<str:listing_id>/buy/", views.ListingBuyView.as_view(), name="api-listing-buy"),
    path("listings/<str:listing_id>/withdraw/", views.ListingWithdrawView.as_view(), name="api-listing-withdraw"),
]
