from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from accounts.authentication import signed_in_user
from wallet.filters import TransactionFilter
from wallet.models import Transaction
from wallet.selectors import transaction_list, wallet_details
from wallet.serializers import TransactionOutputSerializer, WalletDetailsOutputSerializer


class WalletViewSet(GenericViewSet):
    @extend_schema(responses=WalletDetailsOutputSerializer, operation_id="wallet_details")
    @action(detail=False, methods=["get"])
    def details(self, request: Request) -> Response:
        return Response(WalletDetailsOutputSerializer(wallet_details(user=signed_in_user(request))).data)


@extend_schema_view(
    list=extend_schema(operation_id="wallet_transactions", summary="The caller's ledger, newest first.")
)
class TransactionViewSet(mixins.ListModelMixin, GenericViewSet):
    serializer_class = TransactionOutputSerializer
    filterset_class = TransactionFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator's request has no user
            return Transaction.objects.none()
        return transaction_list(user=signed_in_user(self.request))
