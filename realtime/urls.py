from django.urls import path

from realtime import views

urlpatterns = [
    path("client_secrets", views.ClientSecretView.as_view(), name="v1-realtime-client-secrets"),
]
