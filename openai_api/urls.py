from django.urls import path, re_path

from openai_api import views

urlpatterns = [
    path("models", views.ModelListView.as_view(), name="v1-models"),
    path("models/<str:model>", views.ModelDetailView.as_view(), name="v1-model"),
    path("audio/transcriptions", views.TranscriptionView.as_view(), name="v1-transcriptions"),
    path("audio/translations", views.TranslationView.as_view(), name="v1-translations"),
    re_path(r"^(?P<path>.*)$", views.not_found),  # last: what nothing above matched, as OpenAI answers it
]
