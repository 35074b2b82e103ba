from django.contrib import admin
from django.urls import path

from operations import views

app_name = "operations"

urlpatterns = [
    path("", admin.site.admin_view(views.dashboard), name="dashboard"),
]
