from rest_framework.routers import SimpleRouter

from transcriptions.views import TranscriptionViewSet

router = SimpleRouter(trailing_slash=True)
router.register("", TranscriptionViewSet, basename="transcription")

urlpatterns = router.urls
