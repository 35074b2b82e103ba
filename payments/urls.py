from django.urls import path
from rest_framework.routers import SimpleRouter

from payments import views

router = SimpleRouter()
router.register("wallet", views.WalletPaymentViewSet, basename="wallet-payment")

urlpatterns = [
    *router.urls,
    path("payments/webhook/", views.RazorpayWebhookView.as_view(), name="payments-webhook"),
]
