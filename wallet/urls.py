from rest_framework.routers import SimpleRouter

from wallet import views

router = SimpleRouter()
router.register("transactions", views.TransactionViewSet, basename="wallet-transaction")
router.register("", views.WalletViewSet, basename="wallet")

urlpatterns = router.urls
