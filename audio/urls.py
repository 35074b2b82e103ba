from django.urls import path
from rest_framework.routers import SimpleRouter

from audio.views import AudioFileViewSet, DirectUploadCompleteView, DirectUploadView

router = SimpleRouter(use_regex_path=False)
router.register("", AudioFileViewSet, basename="audio-file")

urlpatterns = [
    path("uploads/", DirectUploadView.as_view(), name="audio-upload"),
    path("uploads/<uuid:pk>/complete/", DirectUploadCompleteView.as_view(), name="audio-upload-complete"),
    *router.urls,
]
