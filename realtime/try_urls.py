from django.urls import path

from realtime import views

urlpatterns = [
    path("", views.try_page, name="try"),
    path("<str:name>", views.try_page, name="try-file"),
]
