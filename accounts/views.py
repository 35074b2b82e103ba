from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.serializers import LogoutInputSerializer, UserOutputSerializer
from accounts.services import user_logout


class CurrentUserView(APIView):
    @extend_schema(responses=UserOutputSerializer, operation_id="auth_user")
    def get(self, request: Request) -> Response:
        return Response(UserOutputSerializer(request.user).data)


class LogoutView(APIView):
    @extend_schema(request=LogoutInputSerializer, responses={204: None}, operation_id="auth_logout")
    def post(self, request: Request) -> Response:
        data = LogoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user_logout(user=request.user, refresh=data.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)
